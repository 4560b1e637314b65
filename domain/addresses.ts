/**
 * An IPv6 address's eight groups, written out ('::' expanded to its zero groups), each without
 * leading zeros and in lower case: '2001:DB8::0001' → 2001 db8 0 0 0 0 0 1.
 */
export function ipv6Groups(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.map((g) => g.replace(/^0+(?=.)/, '').toLowerCase());
}
