/** The API's answers, as the API's own schemas declare them (type-only: nothing of the API is loaded). */
import type { z } from '@hono/zod-openapi';
import type {
  deploymentAcceptedSchema,
  deploymentListSchema,
  deploymentStatusSchema,
  environmentListSchema,
  logLineSchema,
  uploadedPackageSchema,
} from '../api/schemas.js';

export type Deployment = z.infer<typeof deploymentStatusSchema>;
export type DeploymentAccepted = z.infer<typeof deploymentAcceptedSchema>;
export type DeploymentList = z.infer<typeof deploymentListSchema>;
export type EnvironmentList = z.infer<typeof environmentListSchema>;
export type LogLine = z.infer<typeof logLineSchema>;
export type UploadedPackage = z.infer<typeof uploadedPackageSchema>;
