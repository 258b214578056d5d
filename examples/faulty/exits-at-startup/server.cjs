'use strict';
// Faulty package: crashes during startup with a stack trace and exit code 3 (startup-error).
function loadSettings() {
  if (!process.env.NOTES_SIGNING_KEY) throw new Error('Missing required setting NOTES_SIGNING_KEY: refusing to start');
}

try {
  loadSettings();
} catch (error) {
  console.error(`Unhandled startup error: ${error.stack}`);
  process.exit(3);
}
