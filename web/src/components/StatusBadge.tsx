import type { DocumentStatus, JobStatus } from '../lib/types.ts';

const TONE: Record<JobStatus | DocumentStatus, string> = {
  queued: 'muted',
  running: 'accent',
  completed: 'ok',
  failed: 'bad',
  cancelled: 'muted',
  pending: 'muted',
  extracted: 'ok',
  unsupported: 'warn',
};

export function StatusBadge({ status }: { status: JobStatus | DocumentStatus }) {
  return <span className={`badge tone-${TONE[status]}`}>{status}</span>;
}
