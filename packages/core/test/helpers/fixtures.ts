export * from '../../../../test-utils/fixtures.js';
