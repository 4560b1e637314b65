import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withIdempotencyKeys } from '../../routes/idempotency.ts';

// X2: every POST form of a page gets its own fresh key as its first field, whatever its attributes'
// order or line breaks; GET forms and other tags starting with "<form" are left as they are.
const KEY = /<input type="hidden" name="_idem" value="[A-Za-z0-9_-]{16}">/g;

test('X2 a key after each POST form tag, none after GET forms or look-alike tags', () => {
  const page = [
    '<p>no form</p>',
    '<form method="post" action="/a">',
    '<form class="filters" method="get" action="/b" role="search">',
    '<form\n  class="inline"\n  method="post"\n  action="/c" hx-post="/c">',
    '<formula method="post">',
    '<form action="/d" data-x="method=&quot;post&quot;">',
    '<form id="last" method="post">',
  ].join('\n');
  const out = withIdempotencyKeys(page);
  const keys = out.match(KEY) ?? [];
  assert.is(keys.length, 3);
  assert.is(new Set(keys).size, 3, 'each form its own key');
  assert.ok(out.includes('<form method="post" action="/a"><input type="hidden" name="_idem"'));
  assert.ok(out.includes('hx-post="/c"><input type="hidden" name="_idem"'));
  assert.ok(out.endsWith('<form id="last" method="post"><input type="hidden" name="_idem" value="' + keys[2]!.slice(-18)));
  assert.is(out.replace(KEY, ''), page, 'nothing else changes');
});

test('X2 a page without POST forms is returned as it is', () => {
  for (const page of ['', '<p>x</p>', '<form method="get">', '<form method="post"']) assert.is(withIdempotencyKeys(page), page);
});

test.run();
