import { databaseStates, isOnline } from './databases.js';
import { onMaster, type Operation } from './operation.js';
import { setReadOnly } from './statements/read-only.js';

/** READ_ONLY on the copy: the server itself refuses every write (error 3906), whatever the session says. Idempotent. */
export async function makeTemporaryReadOnly(op: Operation): Promise<void> {
  await onMaster(op, async (admin) => {
    const state = (await databaseStates(admin, [op.names.temporary])).get(op.names.temporary);
    if (!isOnline(state)) throw new Error(`the temporary copy "${op.names.temporary}" does not exist or is not online`);
    if (state?.readOnly) return;
    await admin.run(setReadOnly(op.names.temporary));
  });
}
