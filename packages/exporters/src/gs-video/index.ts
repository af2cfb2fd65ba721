export * from './compose.js';
export * from './gs-video.js';
