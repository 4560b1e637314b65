import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';

// The graduate's pages before sign-in: activation and password reset (no session needed).
export const studentAccountRoutes = new Hono<AppEnv>();
