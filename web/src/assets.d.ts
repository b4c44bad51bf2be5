// esbuild bundles imported stylesheets into dist/assets/*.css.
declare module "*.css";
