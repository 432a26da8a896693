import { chromium, type Browser } from 'playwright-core';

// Debian's Chromium driven by playwright-core, with the flags the project's browser tests use; the
// profile is a fresh temporary one playwright makes and removes (its own --user-data-dir).
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  } catch (error) {
    throw new Error(`cannot start ${CHROMIUM} (apt-get install -y chromium; CI installs it): ${(error as Error).message}`);
  }
}
