import type { Tx } from '../../db/client.ts';
import { DomainError } from '../errors.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { createSession, validateSessionToken } from './sessions.ts';

// Shared by the flows that end with a new password and a signed-in browser (graduate activation,
// employer registration, password resets).

/** The hash of a new password that meets the password rule, or a 422 on the password field. */
export async function newPasswordHash(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new DomainError('invalid', problem, { password: problem });
  return hashPassword(password);
}

/** A new session for the account, and the account as the actor of the event that follows. */
export async function signInWithin(tx: Tx, userId: number, visitor: { ip: string | null; userAgent: string | null }) {
  const session = await createSession(tx, userId, visitor);
  const actor = await validateSessionToken(tx, session.token);
  if (!actor) throw new DomainError('forbidden', '账号已停用，请联系管理员');
  return { token: session.token, actor };
}
