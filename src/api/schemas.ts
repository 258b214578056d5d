/** The API's zod schemas, one file per concept: requests, a deployment's status, and the listings. */
export * from './schemas/deployment-requests.js';
export * from './schemas/deployment-status.js';
export * from './schemas/listings.js';
