import type { OutgoingMessage, Transport } from './types.ts';

// Posts each message as JSON to a gateway the deployment runs (an SMS provider's bridge, a mail relay).
export function webhookTransport(url: string, timeoutMs = 10_000): Transport {
  return {
    async send(m: OutgoingMessage) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(m),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    },
  };
}
