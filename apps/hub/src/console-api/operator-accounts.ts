/**
 * Managing console operators: who may be added (username and password rules, roles), and what
 * no one may do (remove themselves, which also keeps the last admin). Changing a password or
 * removing an operator revokes its sessions. Passwords are hashed with argon2id.
 * @module
 */

import {
  argumentInvalid,
  type Clock,
  HubError,
  notFound,
  type Operator,
  type OperatorRole,
  type OperatorStore,
  unauthorizedAccess,
} from '@tributary/core';
import type { ConsoleSessions } from './console-sessions.ts';

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 256;
const ROLES: readonly OperatorRole[] = ['admin', 'viewer'];

export interface OperatorView {
  username: string;
  role: OperatorRole;
  createdAt: number;
}

export const operatorView = ({ username, role, createdAt }: Operator): OperatorView => ({ username, role, createdAt });

function checkPassword(password: unknown): string {
  if (typeof password !== 'string') throw argumentInvalid('password must be a string');
  if (password.length < MIN_PASSWORD_LENGTH) throw argumentInvalid(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw argumentInvalid(`password must have at most ${MAX_PASSWORD_LENGTH} characters`);
  return password;
}

const hash = (password: string) => Bun.password.hash(password, { algorithm: 'argon2id' });

export class OperatorAccounts {
  constructor(private readonly deps: { operators: OperatorStore; sessions: ConsoleSessions; clock: Clock }) {}

  async list(): Promise<OperatorView[]> {
    return (await this.deps.operators.list()).map(operatorView);
  }

  async add(input: { username?: unknown; password?: unknown; role?: unknown }): Promise<OperatorView> {
    const { username, role } = input;
    if (typeof username !== 'string' || !USERNAME.test(username)) {
      throw argumentInvalid('username must be 1 to 64 letters, digits or . _ @ -');
    }
    if (typeof role !== 'string' || !ROLES.includes(role as OperatorRole)) throw argumentInvalid("role must be 'admin' or 'viewer'");
    const operator: Operator = {
      username,
      role: role as OperatorRole,
      passwordHash: await hash(checkPassword(input.password)),
      createdAt: this.deps.clock.now(),
    };
    if (!(await this.deps.operators.insert(operator))) throw new HubError('GenericConflict', `Operator '${username}' already exists`);
    return operatorView(operator);
  }

  /** Removes `username` (and its sessions); an operator cannot remove itself. */
  async remove(username: string, by: Operator): Promise<void> {
    if (username === by.username) throw argumentInvalid('You cannot remove yourself');
    if (!(await this.deps.operators.delete(username))) throw notFound(`Operator '${username}'`);
  }

  /** Sets a new password and ends the operator's other sessions (all of them when an admin sets someone else's). */
  async changePassword(username: string, password: unknown, by: { operator: Operator; sessionId: string }): Promise<void> {
    if (username !== by.operator.username && by.operator.role !== 'admin') {
      throw unauthorizedAccess("Only an admin may change another operator's password");
    }
    if (!(await this.deps.operators.setPasswordHash(username, await hash(checkPassword(password))))) {
      throw notFound(`Operator '${username}'`);
    }
    await this.deps.sessions.revokeOperator(username, username === by.operator.username ? by.sessionId : undefined);
  }
}
