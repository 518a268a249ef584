import type { Page } from 'playwright-core';

/** What a page shows wrongly at its current viewport: sideways scrolling and money figures out of sight. */
export interface ScreenFit {
  /** How far the document is wider than the viewport (0 when it fits). */
  overflow: number;
  /** Boxes in the page that scroll sideways (a table wider than its box), by their label. */
  sideways: string[];
  /** How many money figures the page shows. */
  figures: number;
  /** Each money figure not wholly in sight, with the reason. */
  hidden: string[];
}

/**
 * Measures the page as laid out now. A money figure is every `[data-money]` element (the
 * Money component and the chart's money axis); one counts as in sight when its box lies
 * within the viewport's width and within the visible box of every ancestor that clips or
 * scrolls its content (overflow other than visible: a table's scroll box, the chart's svg).
 * Figures not rendered (a closed <details>) are not counted.
 */
export async function measureScreenFit(page: Page): Promise<ScreenFit> {
  return page.evaluate(() => {
    const SLACK = 0.5; // sub-pixel rounding
    const root = document.documentElement;
    const hidden: string[] = [];
    const sideways: string[] = [];
    let figures = 0;
    const nameOf = (element: Element) =>
      `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.classList.length ? `.${[...element.classList].join('.')}` : ''}`;

    for (const figure of document.querySelectorAll('[data-money]')) {
      // Not rendered (display: none, inside a closed <details>, visibility: hidden): nothing to see, nothing clipped.
      if (!figure.checkVisibility({ visibilityProperty: true })) continue;
      figures += 1;
      const box = figure.getBoundingClientRect();
      const label = `“${figure.textContent}”`;
      if (box.left < -SLACK || box.right > root.clientWidth + SLACK) {
        hidden.push(`${label} at x ${Math.round(box.left)}–${Math.round(box.right)}, outside the viewport's width ${root.clientWidth}`);
        continue;
      }
      for (let ancestor = figure.parentElement; ancestor && ancestor !== root && ancestor !== document.body; ancestor = ancestor.parentElement) {
        const style = getComputedStyle(ancestor);
        if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
        const outer = ancestor.getBoundingClientRect();
        // The padding box without scroll bars: what the clipping box lets through.
        const left = outer.left + ancestor.clientLeft;
        const top = outer.top + ancestor.clientTop;
        const right = left + ancestor.clientWidth;
        const bottom = top + ancestor.clientHeight;
        if (box.left < left - SLACK || box.right > right + SLACK || box.top < top - SLACK || box.bottom > bottom + SLACK) {
          hidden.push(
            `${label} at x ${Math.round(box.left)}–${Math.round(box.right)}, clipped by ${nameOf(ancestor)} ` +
              `(overflow ${style.overflowX}, visible x ${Math.round(left)}–${Math.round(right)})`,
          );
          break;
        }
      }
    }
    for (const box of document.querySelectorAll('body *')) {
      const { overflowX } = getComputedStyle(box);
      if ((overflowX === 'auto' || overflowX === 'scroll') && box.scrollWidth > box.clientWidth + SLACK) {
        sideways.push(`${box.getAttribute('aria-label') ?? nameOf(box)}: ${box.scrollWidth} px wide in ${box.clientWidth}`);
      }
    }
    return {
      overflow: Math.max(0, root.scrollWidth - root.clientWidth),
      sideways,
      figures,
      hidden,
    };
  });
}

/** Resolves after the browser has laid out and painted the current state twice (charts measure themselves in a ResizeObserver). */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}
