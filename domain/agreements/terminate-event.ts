// 已解约, the same in every kind's table: a termination of the agreement ended so (a reaction of
// domain/terminations, fired in its transaction). A signed agreement is the only one that can end.
export const TERMINATE = { transitions: [{ from: 'signed', to: 'terminated', by: 'system' }] } as const;
export const TERMINATE_LABEL = '解约完成，协议已解约';
