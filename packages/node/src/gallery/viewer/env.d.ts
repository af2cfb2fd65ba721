/** The viewer imports its stylesheet; the bundler emits it as dist/gallery/viewer.css. */
declare module '*.css';
