import * as vscode from 'vscode';

export interface StepOptions {
  title: string;
  placeHolder?: string;
  matchOnDescription?: boolean;
  matchOnDetail?: boolean;
}

/**
 * The quick picks of one multi-step command in one QuickPick that stays open from the first step to the last.
 * Separate `showQuickPick` calls close the quick input between steps, and closing it gives the focus back to what
 * had it before; when that is a webview (the results panel, a graph editor), its focus arrives asynchronously (VS
 * Code focuses the outer frame, then posts `focus` to the page, which focuses its content) and closes the next
 * pick, opened in between (VS Code issue 75209): a pick that "never appears". Kept open, the quick input never
 * hands the focus back until the command is done.
 */
/** How soon after showing a hide counts as a webview's late focus rather than the user (see focusStolen). */
const STOLEN_MS = 1000;

export class StepPicker implements vscode.Disposable {
  private readonly qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  /** The user closed the picker (Escape, focus elsewhere): every later step resolves to undefined. */
  private closed = false;
  /** An input box is shown in the picker's place: its hiding the picker is not the user closing it. */
  private asking = false;
  /** When the picker was last shown by a step, and whether it was shown again since (once per step). */
  private shownAt = 0;
  private reshown = false;
  private readonly sub = this.qp.onDidHide(() => {
    if (this.asking || this.focusStolen()) return;
    this.closed = true;
  });

  /**
   * A hide within STOLEN_MS of showing is a webview's late focus landing after the picker opened (VS Code focuses a
   * webview's content asynchronously; the Circuits view just drawn or the results panel did it: fresh-clone e2e
   * runs on 2026-12-07, no pick on screen for 60 s and the run dismissed without a word), not the user: the picker
   * is shown again, once per step, which takes the focus back. Keeping it open with `ignoreFocusOut` instead left
   * it on screen without the keyboard focus (typing went to the webview).
   */
  private focusStolen(): boolean {
    if (this.reshown || Date.now() - this.shownAt > STOLEN_MS) return false;
    this.reshown = true;
    setTimeout(() => this.qp.show(), 0);
    return true;
  }

  private show(): void {
    this.shownAt = Date.now();
    this.reshown = false;
    this.qp.show();
  }

  /** One step: the accepted item, or undefined when the picker was closed. */
  async pick<I extends vscode.QuickPickItem>(items: readonly I[], o: StepOptions): Promise<I | undefined> {
    return (await this.step(items, o, false))?.[0];
  }

  /** A step with check boxes: the checked items (possibly none), or undefined when the picker was closed. */
  pickMany<I extends vscode.QuickPickItem>(items: readonly I[], o: StepOptions): Promise<I[] | undefined> {
    return this.step(items, o, true);
  }

  /** Between steps: the picker stays open and busy while the next step's items are computed. */
  busy(): void {
    this.qp.busy = true;
  }

  /**
   * Shows the picker at once, busy, before the first step's items are computed: the quick input that ran the
   * command (the palette) has just closed and handed the focus back, and the sooner a quick input is open again,
   * the less time a webview's late focus has to land after it (VS Code focuses a webview's content only when
   * nothing else took the focus within ≈ 50 ms).
   */
  open(title: string): void {
    if (this.closed) return;
    this.qp.title = title;
    this.qp.items = [];
    this.qp.busy = true;
    this.show();
  }

  /** A free-text step (an option's value), shown in the picker's place; undefined when dismissed. */
  async ask(o: vscode.InputBoxOptions & { title: string }): Promise<string | undefined> {
    if (this.closed) return undefined;
    const box = vscode.window.createInputBox();
    box.title = o.title;
    box.prompt = o.prompt;
    box.value = o.value ?? '';
    this.asking = true;
    try {
      return await new Promise<string | undefined>((resolve) => {
        const subs = [
          box.onDidChangeValue((v) => {
            const bad = o.validateInput?.(v);
            box.validationMessage = typeof bad === 'string' ? bad : undefined;
          }),
          box.onDidAccept(() => {
            if (box.validationMessage) return;
            resolve(box.value);
            for (const d of subs) d.dispose();
          }),
          box.onDidHide(() => {
            resolve(undefined);
            for (const d of subs) d.dispose();
          }),
        ];
        box.show();
      });
    } finally {
      // The picker is shown again by the next step (which replaces the box without closing the quick input).
      this.asking = false;
      box.dispose();
    }
  }

  /**
   * A dialog between steps (Browse…: in a browser VS Code's file dialog is itself a quick input): its hiding the
   * picker is not the user closing it; the next step shows the picker again.
   */
  async aside<T>(dialog: () => Thenable<T>): Promise<T> {
    this.asking = true;
    try {
      return await dialog();
    } finally {
      this.asking = false;
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.qp.dispose();
  }

  private step<I extends vscode.QuickPickItem>(items: readonly I[], o: StepOptions, many: boolean): Promise<I[] | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const qp = this.qp;
    qp.title = o.title;
    qp.placeholder = o.placeHolder;
    qp.matchOnDescription = o.matchOnDescription ?? false;
    qp.matchOnDetail = o.matchOnDetail ?? false;
    qp.canSelectMany = many;
    qp.value = '';
    qp.items = items;
    qp.selectedItems = many ? items.filter((i) => i.picked) : [];
    qp.busy = false;
    return new Promise<I[] | undefined>((resolve) => {
      const done = (v: I[] | undefined): void => {
        for (const d of subs) d.dispose();
        resolve(v);
      };
      const subs = [
        qp.onDidAccept(() => {
          const chosen = (many ? qp.selectedItems : qp.selectedItems.length ? qp.selectedItems.slice(0, 1) : qp.activeItems.slice(0, 1)) as I[];
          if (!many && !chosen.length) return;
          qp.busy = true;
          done([...chosen]);
        }),
        // After the class's own listener: `closed` says whether the user closed it or a webview took the focus.
        qp.onDidHide(() => {
          if (!this.asking && this.closed) done(undefined);
        }),
      ];
      this.show();
    });
  }
}
