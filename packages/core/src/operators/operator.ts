/**
 * Console operators: people who log in to the console. Only the record lives in core; password
 * hashing (argon2id) and sessions belong to the hub, which has the runtime to do them.
 * @module
 */

export type OperatorRole = 'admin' | 'viewer';

export interface Operator {
  username: string;
  /** An encoded argon2id hash (PHC string); never the password. */
  passwordHash: string;
  role: OperatorRole;
  createdAt: number;
}

export const ADMIN_USERNAME = 'admin';
