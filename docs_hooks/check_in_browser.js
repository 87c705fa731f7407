// Open the built site from disk in Chromium and check what a reader does:
// follow a nav link, search, see the formulas, with no request leaving file://.
// Not part of the test suite (CI has no browser). To run it:
//   apt-get install chromium; npm install puppeteer-core@23   (in a scratch folder)
//   python -m mkdocs build --site-dir /tmp/site
//   NODE_PATH=<scratch>/node_modules node docs_hooks/check_in_browser.js /tmp/site
const puppeteer = require('puppeteer-core');
(async () => {
  const site = process.argv[2];
  const browser = await puppeteer.launch({executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'], headless: true});
  const page = await browser.newPage();
  const requests = [];
  page.on('request', r => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:') && !r.url().startsWith('about:')) requests.push(r.url()); });
  page.on('pageerror', e => console.log('PAGEERROR', e.message));
  await page.goto('file://' + site + '/index.html', {waitUntil: 'load'});
  // navigation: click the nav link to the hooks page
  const href = await page.$eval('a.md-nav__link[href$="hooks.html"]', a => a.href);
  console.log('nav link:', href);
  await page.goto(href, {waitUntil: 'load'});
  console.log('title after nav:', await page.title());
  // search
  await page.goto('file://' + site + '/index.html', {waitUntil: 'load'});
  await page.click('label[for="__search"]').catch(() => {});
  await page.focus('input.md-search__input');
  await page.keyboard.type('gradient penalty', {delay: 50});
  try {
    await page.waitForSelector('.md-search-result__item', {timeout: 20000});
    const items = await page.$$eval('.md-search-result__item a', as => as.slice(0,5).map(a => a.href));
    console.log('search results:', items.length, items);
  } catch (e) {
    process.exitCode = 1;
    console.log('SEARCH FAILED', await page.$eval('.md-search-result__meta', m => m.textContent).catch(()=>'?'));
  }
  // math: does a catalogue page hold rendered MathML with non-zero size
  await page.goto('file://' + site + '/catalogue/ganloss-regularizers.html', {waitUntil: 'load'});
  const maths = await page.$$eval('math', ms => ms.map(m => { const r = m.getBoundingClientRect(); return [r.width, r.height]; }));
  console.log('math elements:', maths.length, 'first sizes', JSON.stringify(maths.slice(0,3)));
  const toc = await page.$$eval('.md-sidebar--secondary .md-nav__link', as => as.length);
  console.log('toc entries on the page:', toc);
  console.log('non-file requests:', requests);
  if (requests.length || !maths.length || !href.endsWith('.html')) process.exitCode = 1;
  await browser.close();
})();
