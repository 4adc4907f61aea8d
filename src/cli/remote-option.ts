import { access } from 'node:fs/promises';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { chooseRemote, CONFIG_NAME, loadProjectConfig, RemoteError, type RemoteChoice } from '../remote/config.ts';
import { UsageError } from './args.ts';

export const remoteOption = { remote: { type: 'string', short: 'r' } } as const;

export const REMOTE_HELP = `  -r, --remote R      a remote named in ${CONFIG_NAME} (remotes:), a folder (./x, /mnt/x) or mongodb://...;
                      default $PIPELINE_REMOTE, else default_remote: of ${CONFIG_NAME}`;

/**
 * Opens the remote a command names (or the default one); refuses the local store itself. A folder
 * remote is created by a push (`create`); reading from one that does not exist is an error.
 */
export async function openRemote(arg: string | undefined, local: Store, opts: { create?: boolean } = {}): Promise<{ store: Store; choice: RemoteChoice }> {
  let choice: RemoteChoice;
  try {
    choice = chooseRemote(await loadProjectConfig(), arg);
  } catch (err) {
    if (err instanceof RemoteError) throw new UsageError(err.message);
    throw err;
  }
  if (!opts.create && !/^[a-z][a-z0-9+.-]*:\/\//i.test(choice.location) && !(await access(choice.location).then(() => true, () => false))) {
    throw new UsageError(`the remote ${choice.display} does not exist (a push creates it)`);
  }
  const store = await openStore(choice.location);
  if (store.location === local.location) {
    await store.close();
    throw new UsageError(`the remote ${choice.display} is the local store itself`);
  }
  return { store, choice };
}
