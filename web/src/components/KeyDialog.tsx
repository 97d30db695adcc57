/**
 * The API key prompt: opens when any request answers 401 (or from the nav). The key lives in
 * sessionStorage only: it is gone when the browser tab closes, and never put in a URL.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { getApiKey, setApiKey } from '../lib/api.ts';
import { announceDataChanged } from '../lib/changes.ts';

export function KeyDialog({ open, reason, onClose }: { open: boolean; reason: string | null; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      setValue(getApiKey() ?? '');
      d.showModal();
    } else if (!open && d.open) d.close();
  }, [open]);

  const save = (e: FormEvent) => {
    e.preventDefault();
    setApiKey(value.trim() || null);
    onClose();
    announceDataChanged();
  };

  return (
    <dialog ref={ref} className="dialog" aria-labelledby="key-h" onClose={onClose}>
      <form onSubmit={save}>
        <h2 id="key-h">API key</h2>
        {reason && <p className="notice notice-warn">{reason}</p>}
        <p className="muted">
          The key is kept for this browser session only and sent with every request. Ask your docsight administrator for one.
        </p>
        <label className="field">
          <span>Key</span>
          <input type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </label>
        <div className="row end">
          {getApiKey() && (
            <button
              type="button"
              className="btn"
              onClick={() => {
                setApiKey(null);
                setValue('');
                onClose();
                announceDataChanged();
              }}
            >
              Forget key
            </button>
          )}
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary">
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
