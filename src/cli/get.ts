/** `ranged get`: placeholder until the client lands (issue 3). */
import { UsageError } from '../errors.js';

export const GET_HELP = 'Usage: ranged get URL [-o OUT]\n';

/** Runs `ranged get` with the arguments after `get`; resolves to the process exit code. */
export async function runGet(_args: string[]): Promise<number> {
  throw new UsageError('Cannot run "ranged get": not implemented yet');
}
