import { expect, test } from 'bun:test';
import { FakeClock } from '@tributary/core/testing';
import { LoginThrottle } from './login-throttle.ts';

const MINUTE = 60_000;

test('the sixth attempt within the window is refused with the seconds to wait, until the oldest failure leaves the window', () => {
  const clock = new FakeClock();
  const throttle = new LoginThrottle({ clock, maxFailures: 5, windowMs: 15 * MINUTE });
  for (let i = 0; i < 5; i++) {
    throttle.check('alice|1.2.3.4');
    throttle.failed('alice|1.2.3.4');
    clock.advance(MINUTE);
  }
  expect(() => throttle.check('alice|1.2.3.4')).toThrow('try again in 600 seconds');
  throttle.check('alice|5.6.7.8');
  throttle.check('bob|1.2.3.4');
  clock.advance(10 * MINUTE);
  throttle.check('alice|1.2.3.4');
});

test('a success forgets the failures', () => {
  const clock = new FakeClock();
  const throttle = new LoginThrottle({ clock, maxFailures: 2 });
  throttle.failed('k');
  throttle.succeeded('k');
  throttle.failed('k');
  throttle.check('k');
  throttle.failed('k');
  expect(() => throttle.check('k')).toThrow('Too many failed logins');
});
