/** A folder: actions with live progress, insights as charts with numbers, what changed, the documents table. */
import { useEffect, useState } from 'react';
import { ErrorNotice, FolderActions } from '../components/FolderActions.tsx';
import { DocumentsTable, type Filters, NO_FILTERS } from '../components/DocumentsTable.tsx';
import { InsightsPanel } from '../components/InsightsPanel.tsx';
import { DuplicatesPanel } from '../components/Duplicates.tsx';
import { ChangesPanel } from '../components/ChangesPanel.tsx';
import { folderApi } from '../lib/api.ts';
import { useDataTick } from '../lib/changes.ts';
import { folderLabel } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import type { FolderInsights } from '../lib/types.ts';

export function FolderPage({ folder }: { folder: string }) {
  const tick = useDataTick();
  const insights = useApi<FolderInsights>(folderApi(folder, 'insights'), tick);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  useEffect(() => setFilters(NO_FILTERS), [folder]);
  useEffect(() => {
    document.title = `${folderLabel(folder)} · docsight`;
  }, [folder]);
  const ins = insights.data;

  const filter = (f: Partial<Filters>) => {
    setFilters({ ...filters, ...f });
    document.getElementById('docs-h')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };

  return (
    <div className="page">
      <FolderActions folder={folder} title={folder ? (folder.split('/').at(-1) ?? folder) : folderLabel(folder)} />
      {insights.error && <ErrorNotice error={insights.error} />}
      {ins && ins.documentCount === 0 && !ins.lastScannedAt && (
        <p className="notice">This folder has not been scanned yet. Scan it to see what it holds.</p>
      )}
      {ins && <InsightsPanel insights={ins} onFilter={filter} />}
      {ins && <DuplicatesPanel folder={folder} />}
      {ins && <ChangesPanel folder={folder} />}
      {!insights.error && (
        <DocumentsTable
          folder={folder}
          filters={filters}
          setFilters={setFilters}
          total={ins?.documentCount ?? null}
          options={{
            formats: ins?.byFormat ?? [],
            extensions: ins?.byExtension ?? [],
            authors: ins?.byAuthor ?? [],
            tags: ins?.classification.byTag ?? [],
          }}
        />
      )}
    </div>
  );
}
