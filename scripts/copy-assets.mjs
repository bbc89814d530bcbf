// Copies the inspector's static files (HTML, CSS, JS) next to the compiled server.
import { cpSync, existsSync } from 'node:fs';

if (existsSync('src/inspector/assets')) cpSync('src/inspector/assets', 'dist/inspector/assets', { recursive: true });
