import type { Eta } from 'eta';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { Logger } from '../db/log.ts';
import type { Storage } from '../db/storage.ts';
import type { PlatformSigning } from '../domain/agreements/sealing.ts';
import type { Actor, SignedInSession } from '../domain/auth/sessions.ts';
import type { StudentRegistry } from '../domain/graduates/registry.ts';
import type { PdfPrinter } from '../views/pdf.ts';
import type { Assets } from './assets.ts';
import type { SchoolCache } from './school-cache.ts';

/** What every route can reach: built once by createApp. */
export type AppContext = {
  config: Config;
  db: Db;
  log: Logger;
  views: Eta;
  assets: Assets;
  /** The 学籍 registry graduates' roster records are checked against (G1). */
  registry: StudentRegistry;
  /** Prints rendered documents to PDF; Chromium starts on the first print. */
  pdf: PdfPrinter;
  /** What pages read per school and seldom changes (routes/school-cache.ts). */
  schoolCache: SchoolCache;
  /** Where uploads, roster spreadsheets and exports are kept (DATA_DIR/uploads, or S3). */
  storage: Storage;
  /** The key and certificate agreement PDFs are signed with (issue 15). */
  signing: PlatformSigning;
};

export type AppEnv = {
  Variables: {
    app: AppContext;
    actor: Actor | null;
    /** Read with the actor by the session look-up: the unread count, the graduate's G1 gate, the school's cache version. */
    signedIn: Omit<SignedInSession, 'actor'> | null;
    secureHeadersNonce?: string;
    /** A handler set headers on the context (routes/headers.ts): a page is then made through hono. */
    preparedHeaders?: boolean;
    /** The form's idempotency key settled now, with the answer it will get (routes/idempotency.ts): once only. */
    settleForm?: (status: number, location: string | null) => Promise<void>;
  };
};
