/**
 * An incremental text/event-stream parser for GET /v1/jobs/{id}/events, shared by the CLI (Node)
 * and the dashboard (browser): feed it chunks as they arrive, get back the events completed so far.
 * Pure code with no runtime imports, so both builds can bundle it.
 */
export interface SseEvent {
  event: string;
  data: string;
}

export function createSseParser(): (chunk: string) => SseEvent[] {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    // A CR at the very end may be the first half of a CRLF split across chunks: wait for the next one.
    const ready = buffer.endsWith('\r') ? buffer.length - 1 : buffer.length;
    const text = buffer.slice(0, ready).replace(/\r\n?/g, '\n');
    const rest = buffer.slice(ready);
    const events: SseEvent[] = [];
    let start = 0;
    let cut: number;
    while ((cut = text.indexOf('\n\n', start)) >= 0) {
      const event = parseBlock(text.slice(start, cut));
      if (event) events.push(event);
      start = cut + 2;
    }
    buffer = text.slice(start) + rest;
    return events;
  };
}

function parseBlock(block: string): SseEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // keep-alive comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { event, data: data.join('\n') } : null;
}
