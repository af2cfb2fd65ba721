export * from '../../../../test-utils/compare.js';
