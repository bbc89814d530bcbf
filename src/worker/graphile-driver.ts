// graphile-worker, an optional peer dependency: loaded by `weft/worker` only.
import { importOptional } from '../optional-package.js';

export const { Logger, makeWorkerUtils, run } = await importOptional(
  'graphile-worker',
  'weft/worker',
  () => import('graphile-worker'),
);
