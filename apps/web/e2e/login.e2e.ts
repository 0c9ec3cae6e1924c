// Logging in to the console through its login page, against a real hub.
import { expect, screenshot, test } from './support/fixtures.ts';

test.describe('login', () => {
  test('the admin logs in and lands on the overview', async ({ page, hub }) => {
    await page.goto('/login');
    await page.getByLabel('Username').fill(hub.admin.username);
    await page.getByLabel('Password').fill(hub.admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();

    await expect(page).toHaveURL((url) => url.pathname === '/');
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    await screenshot(page, 'login-overview');
  });

  test('a wrong password shows the hub’s error and stays on the login page', async ({ page, hub }) => {
    await page.goto('/login');
    await page.getByLabel('Username').fill(hub.admin.username);
    await page.getByLabel('Password').fill(`${hub.admin.password}-wrong`);
    await page.getByRole('button', { name: 'Log in' }).click();

    await expect(page.getByRole('alert')).toHaveText('Wrong username or password');
    await expect(page).toHaveURL((url) => url.pathname === '/login');
    await screenshot(page, 'login-wrong-password');
  });

  test('an anonymous visitor is sent to log in and then on to the page they asked for', async ({ page, hub }) => {
    await page.goto('/devices');
    await expect(page).toHaveURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/devices');
    await page.getByLabel('Username').fill(hub.admin.username);
    await page.getByLabel('Password').fill(hub.admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();

    await expect(page).toHaveURL((url) => url.pathname === '/devices');
  });

  test('logging out ends the session', async ({ adminPage: page }) => {
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL((url) => url.pathname === '/login');

    await page.goto('/');
    await expect(page).toHaveURL((url) => url.pathname === '/login');
    expect((await page.request.get('/console/api/session')).status()).toBe(401);
  });
});
