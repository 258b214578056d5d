import { describeEngineContract } from './contract.js';
import { makePostgresContext } from './postgres-context.js';

// Once as a superuser (event trigger, owners kept) and once as an ordinary application role that owns its databases.
describeEngineContract('postgres (superuser)', () => makePostgresContext({ role: 'superuser' }));
describeEngineContract('postgres (application role)', () => makePostgresContext({ role: 'application' }));
