import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['agents/**/*.test.ts', 'worker/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['test/support/build-dist.ts'],
    // Integration suites share one livekit-server and Redis; running files one at a time keeps
    // them from contending for the 2 cores this project is sized for.
    fileParallelism: false,
    testTimeout: 60_000,
    // @livekit/rtc-node logs at debug level unless NODE_ENV is production.
    env: { NODE_ENV: 'production' },
    hookTimeout: 120_000,
  },
});
