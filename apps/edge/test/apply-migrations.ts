import { applyD1Migrations, env } from 'cloudflare:test';

// Runs before each test file, inside workerd: the D1 schema of migrations/ (idempotent).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
