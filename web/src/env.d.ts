/** esbuild bundles imported stylesheets into the app's one CSS file. */
declare module '*.css';
