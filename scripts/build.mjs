// Bundles the extension host code (and the details-panel webview script) with esbuild.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions[]} */
const targets = [
  {
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // undici and https-proxy-agent are loaded from their own files, only when a proxy, extra CA
    // or insecure mode is set: most users never load them.
    external: ['vscode', 'bufferutil', 'utf-8-validate', 'undici', 'https-proxy-agent'],
    sourcemap: true,
    minify: production,
    logLevel: 'warning',
  },
  ...[
    ['node_modules/undici/index.js', 'dist/undici.js'],
    ['node_modules/https-proxy-agent/dist/index.js', 'dist/proxyAgent.js'],
  ].map(([entry, outfile]) => ({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: production,
    logLevel: 'warning',
  })),
];
if (existsSync('src/webview/main.ts')) {
  targets.push({
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: true,
    minify: production,
    logLevel: 'warning',
  });
}

if (watch) {
  for (const t of targets) {
    const ctx = await esbuild.context(t);
    await ctx.watch();
  }
  console.log('esbuild: watching for changes');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  console.log(`esbuild: built ${targets.map((t) => t.outfile).join(', ')}`);
}
