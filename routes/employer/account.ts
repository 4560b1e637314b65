import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';

// The employer's pages before sign-in: registration and password reset (no session needed).
export const employerAccountRoutes = new Hono<AppEnv>();
