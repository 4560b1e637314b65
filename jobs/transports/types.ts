// Messages leave the platform through one of these; an SMS provider is an adapter of this shape.
export type OutgoingMessage = { channel: 'sms' | 'email' | 'wechat'; recipient: string; subject: string | null; body: string };

export interface Transport {
  send(message: OutgoingMessage): Promise<void>;
}
