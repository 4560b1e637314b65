export * from './tenancy.ts';
export * from './graduates.ts';
export * from './employers.ts';
export * from './users.ts';
export * from './events.ts';
export * from './notifications.ts';
export * from './idempotency.ts';
