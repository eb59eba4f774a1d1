/**
 * Keyboard and labelling checks for one rendered page, in the browser: every visible control has
 * an accessible name, and pressing Tab from the top reaches every one of them, each with a
 * visible focus indicator. Returns the problems found (empty when the page passes), so a test can
 * show all of them at once.
 */
import type { Page } from "playwright-core";

const CONTROLS =
  "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

interface ControlInfo {
  readonly id: string;
  readonly what: string;
  readonly name: string;
}

export async function accessibilityProblems(page: Page): Promise<string[]> {
  const controls = await page.evaluate((selector): ControlInfo[] => {
    const visible = (el: Element) => {
      const style = getComputedStyle(el);
      return el.getClientRects().length > 0 && style.visibility !== "hidden";
    };
    const text = (el: Element | null) => (el?.textContent ?? "").replace(/\s+/g, " ").trim();
    const nameOf = (el: HTMLElement): string => {
      const labelledBy = el.getAttribute("aria-labelledby");
      if (labelledBy)
        return labelledBy
          .split(/\s+/)
          .map((id) => text(document.getElementById(id)))
          .join(" ")
          .trim();
      const aria = el.getAttribute("aria-label");
      if (aria?.trim()) return aria.trim();
      if (
        el instanceof HTMLInputElement ||
        el instanceof HTMLSelectElement ||
        el instanceof HTMLTextAreaElement
      ) {
        const labels = [...(el.labels ?? [])].map(text).join(" ").trim();
        if (labels) return labels;
        return el.getAttribute("title")?.trim() ?? "";
      }
      return text(el) || el.getAttribute("title")?.trim() || "";
    };
    return [...document.querySelectorAll<HTMLElement>(selector)].filter(visible).map((el, i) => {
      el.dataset.a11yId = String(i);
      return {
        id: String(i),
        what: `<${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}> "${text(el).slice(0, 40)}"`,
        name: nameOf(el),
      };
    });
  }, CONTROLS);

  const problems = controls.filter((c) => !c.name).map((c) => `no accessible name: ${c.what}`);

  // Walk the page with Tab from the top, as a keyboard user does.
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  const reached = new Set<string>();
  for (let press = 0; press < controls.length + 5; press++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const indicated =
        (style.outlineStyle !== "none" && style.outlineWidth !== "0px") || style.boxShadow !== "none";
      return { id: el.dataset.a11yId ?? null, tag: el.tagName.toLowerCase(), indicated };
    });
    if (focused?.id == null) continue;
    if (!focused.indicated && !reached.has(focused.id)) {
      const control = controls.find((c) => c.id === focused.id);
      problems.push(`no visible focus indicator: ${control?.what ?? focused.tag}`);
    }
    reached.add(focused.id);
  }
  for (const c of controls) if (!reached.has(c.id)) problems.push(`not reachable with Tab: ${c.what}`);
  return problems;
}
