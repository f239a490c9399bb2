// web-browser.mjs - drive casemail-web in headless Chromium (T210)
//
// SYNOPSIS
//	node web-browser.mjs PW_DIR LINK SCREENSHOT REPLY
//
// DESCRIPTION
//	playwright-core is loaded from PW_DIR (installed by T210 with npm);
//	the browser is Debian's /usr/bin/chromium, never a downloaded one,
//	in a fresh profile at a phone-sized viewport (390x844). Opens LINK
//	(a login link from a notice), signs in, registers, reads the
//	update, writes REPLY to the officer, checks it is shown, and saves
//	a full-page screenshot of the case page at SCREENSHOT. Prints one
//	TAP line per step ("ok N - ..." / "not ok N - ...") and "1..N".
//	Every wait is bounded (15 s a step, 90 s in all); the browser is
//	closed on every path. A console error (a CSP violation shows as
//	one) fails the run.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [pwDir, link, shot, reply] = process.argv.slice(2);
const require = createRequire(join(pwDir, 'package.json'));
const { chromium } = require('playwright-core');

let n = 0;
let failed = 0;
function t(okay, desc, extra) {
	n++;
	if (okay) {
		console.log(`ok ${n} - ${desc}`);
	} else {
		failed++;
		console.log(`not ok ${n} - ${desc}`);
		if (extra)
			console.log(`# ${String(extra).split('\n').join('\n# ')}`);
	}
	return okay;
}

const watchdog = setTimeout(() => {
	console.log('Bail out! browser test took longer than 90 s');
	process.exit(2);
}, 90000);

const profile = mkdtempSync(join(tmpdir(), 'cm-chromium-'));
let ctx = null;
const consoleErrors = [];
try {
	ctx = await chromium.launchPersistentContext(profile, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		viewport: { width: 390, height: 844 },
		deviceScaleFactor: 2,
		isMobile: true,
		hasTouch: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-quic', '--no-first-run',
			'--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
		timeout: 30000,
	});
	const page = ctx.pages()[0] || await ctx.newPage();
	page.setDefaultTimeout(15000);
	page.on('console', (m) => {
		if (m.type() === 'error')
			consoleErrors.push(m.text());
	});
	page.on('pageerror', (e) => consoleErrors.push(String(e)));

	await page.goto(link);
	t(await page.locator('h1').textContent() ===
	  'Sign in to see your case', 'the link shows the sign-in page');
	await Promise.all([page.waitForURL('**/register'),
		page.getByRole('button', { name: 'Sign in' }).click()]);
	t(true, 'sign in leads to registration');
	const name = page.getByLabel('Your name');
	t(await name.inputValue() === 'Jane Doe', 'name prefilled');
	await name.fill('Jane Q. Doe');
	await page.getByRole('radio', { name: /^By email \(/ }).check();
	await Promise.all([page.waitForURL('**/case'),
		page.getByRole('button', { name: 'Register' }).click()]);
	t(true, 'registered, on the case page');
	const body = await page.locator('main').innerText();
	t(body.includes('We have found the bicycle'), 'the update is shown',
	  body);
	t(body.includes('PC Smith'), 'the officer is named');
	await page.getByLabel('Your message').fill(reply);
	await Promise.all([page.waitForURL('**/case?done=1'),
		page.getByRole('button', { name: 'Send message' }).click()]);
	const after = await page.locator('main').innerText();
	t(after.includes('Your message has been sent'), 'sent, confirmed');
	const mine = page.locator('ol.thread li.mine .text');
	t(await mine.last().innerText() === reply,
	  'the reply is in the thread, as typed', await mine.last().innerText());
	const css = await page.evaluate(() =>
		getComputedStyle(document.querySelector('header')).backgroundColor);
	t(css === 'rgb(29, 53, 87)', 'the style sheet applies (CSP allows it)',
	  css);
	const wide = await page.evaluate(() =>
		document.documentElement.scrollWidth <= window.innerWidth);
	t(wide, 'no sideways scrolling on a phone');
	await page.screenshot({ path: shot, fullPage: true });
	t(true, 'screenshot saved');
	t(consoleErrors.length === 0, 'no console errors (no CSP violation)',
	  consoleErrors.join('\n'));
} catch (e) {
	t(false, 'browser run', e && e.stack ? e.stack : e);
} finally {
	if (ctx)
		await ctx.close().catch(() => {});
	rmSync(profile, { recursive: true, force: true });
	clearTimeout(watchdog);
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
