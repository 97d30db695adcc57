/**
 * Classification as the pipeline uses it: the library's classifier with confidence review flags
 * and failures as values. (Requests in flight are bounded where they leave: the provider's fetch,
 * per HTTP attempt, retries first; see container.ts and classify/concurrency.ts.)
 */
import { type ClassifyInput, type Classifier, classificationFailure } from '../classify/index.ts';
import type { ClassificationOutput } from '../store/classifications.repository.ts';

export type StoredResult = ClassificationOutput;

export type ClassifyOutcome =
  | { ok: true; result: StoredResult }
  | { ok: false; code: string; message: string; retryable: boolean };

export interface ClassifyService {
  readonly model: string;
  readonly promptVersion: string;
  readonly providerName: string;
  /** Estimated cost in USD of classifying this input (0 when it cannot be planned). */
  estimateCostUsd(input: ClassifyInput): number;
  classify(input: ClassifyInput, signal?: AbortSignal): Promise<ClassifyOutcome>;
}

export function createClassifyService(opts: {
  classifier: Classifier;
  /** Tags under this confidence are kept but flagged for review. */
  reviewThreshold: number;
  summaryMaxWords: number;
}): ClassifyService {
  const { classifier } = opts;
  return {
    model: classifier.model,
    promptVersion: classifier.promptVersion,
    providerName: classifier.providerName,
    estimateCostUsd(input) {
      try {
        return classifier.estimate({ summaryMaxWords: opts.summaryMaxWords, ...input }).costUsd;
      } catch {
        return 0;
      }
    },
    async classify(input, signal) {
      try {
        const r = await classifier.classify({ summaryMaxWords: opts.summaryMaxWords, ...input }, { signal });
        const tags = r.tags.map((t) => ({ label: t.label, confidence: t.confidence, needsReview: t.confidence < opts.reviewThreshold }));
        return {
          ok: true,
          result: {
            tags,
            primaryCategory: r.primaryCategory,
            summary: r.summary,
            language: r.summaryLanguage,
            strategy: r.strategy,
            chunks: r.chunks,
            inputTokens: r.usage.inputTokens,
            outputTokens: r.usage.outputTokens,
            costUsd: r.costUsd,
            needsReview: tags.some((t) => t.needsReview),
          },
        };
      } catch (err) {
        const f = classificationFailure(err);
        return { ok: false, code: f.code, message: f.message, retryable: f.retryable };
      }
    },
  };
}
