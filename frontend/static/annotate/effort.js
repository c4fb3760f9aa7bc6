// Active labeling time, measured on the page and sent with every box action so the dashboard's
// "human seconds per final box" is what people spent, not the gaps between requests.
//
//   const clock = createEffortClock();
//   clock.frameShown();          // a new frame is on screen: its work starts now
//   const seconds = clock.take(); // active seconds since the frame was shown or the last action
//
// Time counts while the tab is visible. A pause without any input counts at most `idleSeconds`
// (someone who walked away is not labeling), and time the tab was hidden never counts.

const ACTIVITY_EVENTS = ["pointerdown", "pointermove", "keydown", "wheel"];

export function createEffortClock({ idleSeconds = 60, maxSeconds = 3600, now = () => performance.now(), target = window, doc = document } = {}) {
  const idleMs = idleSeconds * 1000;
  let spent = 0; // milliseconds of active time not yet taken
  let last = doc.hidden ? null : now(); // the last moment the person was seen active; null while hidden

  function account(at) {
    if (last !== null) spent += Math.min(Math.max(0, at - last), idleMs);
    last = doc.hidden ? null : at;
  }

  const onActivity = () => account(now());
  const onVisibility = () => {
    const at = now();
    if (doc.hidden) {
      account(at); // counts up to the moment the tab was hidden, then stops
    } else {
      last = at; // back: the hidden span is not counted
    }
  };
  for (const name of ACTIVITY_EVENTS) target.addEventListener(name, onActivity, { passive: true, capture: true });
  doc.addEventListener("visibilitychange", onVisibility);

  return {
    frameShown() {
      spent = 0;
      last = doc.hidden ? null : now();
    },
    take() {
      account(now());
      const seconds = Math.min(spent / 1000, maxSeconds);
      spent = 0;
      return Math.round(seconds * 1000) / 1000;
    },
    destroy() {
      for (const name of ACTIVITY_EVENTS) target.removeEventListener(name, onActivity, { capture: true });
      doc.removeEventListener("visibilitychange", onVisibility);
    },
  };
}
