// Adding queue jobs in batches: the jobs of many enqueues issued close together go in with one statement.
import type { WorkerUtils } from 'graphile-worker';
import { BatchQueue } from '../storage/postgres/batch-queue.js';
import { withReconnects } from '../storage/postgres/connection-loss.js';
import { jobKey, taskIdentifier, type WeftJob } from './job-payload.js';

interface PendingAdd {
  runId: string;
  identifier: string;
  /** The job as JSON text, made when it was queued (a value that cannot be serialized fails its own enqueue only). */
  payload: string;
  key: string;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * graphile-worker's `add_job` for each job of a batch, in one statement (one round trip, one commit),
 * each keyed and added as `addJob` with `jobKeyMode: 'unsafe_dedupe'` adds it: a job whose key is
 * queued already is left as it is.
 */
function addJobsText(schema: string): string {
  return `SELECT count(*) AS added
    FROM unnest($1::text[], $2::json[], $3::text[]) AS s(identifier, payload, job_key),
    LATERAL "${schema}".add_job(identifier => s.identifier, payload => s.payload, job_key => s.job_key,
      job_key_mode => 'unsafe_dedupe') AS j`;
}

/**
 * Queues the jobs of `WorkflowQueue` and adds those issued close together in one statement
 * (`BatchQueue`): 500 runs enqueued at once make a few statements rather than 500, and wake the
 * workers a few times rather than 500. Tried again on a new connection while the connection is lost:
 * the job key makes a second add of a job that the lost attempt committed a no-op. A batch that fails
 * otherwise is added again job by job, so that each enqueue fails or succeeds on its own.
 */
export class JobAdds {
  private readonly queue = new BatchQueue<PendingAdd>((batch) => this.send(batch));
  private readonly text: string;

  constructor(
    schema: string,
    private readonly utils: () => Promise<WorkerUtils>,
  ) {
    this.text = addJobsText(schema);
  }

  /** Adds `job` to the queue of `workflowId`'s task; resolves once it is committed. */
  add(workflowId: string, job: WeftJob): Promise<void> {
    return new Promise((resolve, reject) => {
      const payload = JSON.stringify(job);
      this.queue.push({
        runId: job.runId,
        identifier: taskIdentifier(workflowId),
        payload,
        key: jobKey(job),
        resolve,
        reject,
      });
    });
  }

  private async send(batch: PendingAdd[]): Promise<void> {
    try {
      await withReconnects(async () => {
        const utils = await this.utils();
        await utils.withPgClient((client) =>
          client.query(this.text, [
            batch.map((a) => a.identifier),
            batch.map((a) => a.payload),
            batch.map((a) => a.key),
          ]),
        );
      });
    } catch (error) {
      // One job's trouble stays its own: each is added again alone (a job the batch added is left as it is).
      if (batch.length > 1) await Promise.all(batch.map((add) => this.send([add])));
      else batch[0]!.reject(error);
      return;
    }
    for (const add of batch) add.resolve();
  }
}
