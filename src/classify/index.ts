/** The classification library's public surface: callers import from here, not from the files. */
export type { BatchApi, BatchRequestLine, BatchResults, BatchState, ChatMessage, ClassificationResult, ClassificationStrategy, ClassifyInput, CompleteOptions, CompletionRequest, CompletionResponse, LlmProvider, OutputSchema, TagScore, Taxonomy, TaxonomyLabel, Usage } from './types.ts';
export { type ClassificationFailure, type ClassificationFailureCode, classificationFailure, ClassifyInputError, type ClassifyInputErrorCode, ProviderError, type ProviderErrorCode, RateLimiterUnavailableError } from './errors.ts';
export { DEFAULT_TAXONOMY_LABELS } from './default-taxonomy.ts';
export { PROMPT_VERSION } from './prompt.ts';
export { countTokens } from './tokens.ts';
export { splitIntoChunks } from './chunking.ts';
export { DEFAULT_PRICES, estimateCost, findPrice, type ModelPrice, type PriceTable, priceTable } from './cost.ts';
export { createOpenAIProvider, type OpenAIProviderOptions, sdkRetryCount } from './openai.provider.ts';
export { createRequestGate, type RequestGate } from './concurrency.ts';
export { type ClassificationEstimate, type Classifier, type ClassifierOptions, type ClassifyCallOptions, createClassifier } from './classifier.ts';
