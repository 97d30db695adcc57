/**
 * The migrations, in order. Listed by hand (not discovered from file names) so that the set is
 * checked by the compiler and bundles cleanly. Never edit a migration that has shipped: add one.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_queue.ts';
import * as m0003 from './0003_classification.ts';
import * as m0004 from './0004_search.ts';
import * as m0005 from './0005_auth.ts';
import * as m0006 from './0006_search_body.ts';
import * as m0007 from './0007_folder_stats.ts';
import * as m0008 from './0008_folder_bounds.ts';
import * as m0009 from './0009_search_sample.ts';
import * as m0010 from './0010_containers_ocr.ts';
import * as m0011 from './0011_classification_warnings.ts';
import * as m0012 from './0012_personal_data.ts';
import * as m0013 from './0013_duplicates.ts';
import * as m0014 from './0014_stale_index.ts';
import * as m0015 from './0015_sources.ts';
import * as m0016 from './0016_changes_watches.ts';
import * as m0017 from './0017_webhooks.ts';
import * as m0018 from './0018_reviews_evaluations.ts';
import * as m0019 from './0019_custom_fields.ts';
import * as m0020 from './0020_llm_batches.ts';
import * as m0021 from './0021_lsh_column.ts';
import * as m0022 from './0022_shared_results.ts';
import * as m0023 from './0023_label_fields.ts';
import * as m0025 from './0025_classify_planned.ts';
import * as m0027 from './0027_mtime_index.ts';
import * as m0028 from './0028_summary_stale_pii.ts';
import * as m0029 from './0029_read_notify.ts';

export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_queue': m0002,
  '0003_classification': m0003,
  '0004_search': m0004,
  '0005_auth': m0005,
  '0006_search_body': m0006,
  '0007_folder_stats': m0007,
  '0008_folder_bounds': m0008,
  '0009_search_sample': m0009,
  '0010_containers_ocr': m0010,
  '0011_classification_warnings': m0011,
  '0012_personal_data': m0012,
  '0013_duplicates': m0013,
  '0014_stale_index': m0014,
  '0015_sources': m0015,
  '0016_changes_watches': m0016,
  '0017_webhooks': m0017,
  '0018_reviews_evaluations': m0018,
  '0019_custom_fields': m0019,
  '0020_llm_batches': m0020,
  '0021_lsh_column': m0021,
  '0022_shared_results': m0022,
  '0023_label_fields': m0023,
  '0025_classify_planned': m0025,
  '0027_mtime_index': m0027,
  '0028_summary_stale_pii': m0028,
  '0029_read_notify': m0029,
};
