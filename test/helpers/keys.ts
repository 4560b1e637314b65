import { installIdNumberKeys, loadIdNumberKeys, sealIdNumber } from '../../db/id-number-keys.ts';

// The ID number keys of every test process: fixed, so the template database sealed by the run's
// set-up opens in each test file, and in a server a test starts on a cloned database. A server in
// its own fresh DATA_DIR generates its own, as `npm start` does.
export const TEST_ID_NUMBER_ENV = {
  ID_NUMBER_KEYS: `test1:${Buffer.alloc(32, 1).toString('base64')}`,
  ID_NUMBER_KEY_CURRENT: 'test1',
  ID_NUMBER_HMAC_KEY: Buffer.alloc(32, 2).toString('base64'),
};

export const TEST_ID_NUMBER_KEYS = await loadIdNumberKeys({ dataDir: '/nonexistent', env: TEST_ID_NUMBER_ENV });
installIdNumberKeys(TEST_ID_NUMBER_KEYS);

/** One sealed number every generated bench graduate shares; their blind index is the bench's own row marker. */
export const BENCH_SEALED_ID_NUMBER = sealIdNumber(TEST_ID_NUMBER_KEYS, '110105200401010011');
