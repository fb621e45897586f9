/**
 * Web push on my subscriptions page (src/web/pages/my-subscriptions.tsx): shows which state this browser is in, and
 * on "Turn on notifications" asks for permission, registers the service worker (/sw.js, scope /), subscribes with the
 * server's VAPID key (GET /api/v1/push/public-key) and registers the subscription (POST /api/v1/me/push-subscriptions,
 * with the session's CSRF token). A browser already subscribed registers again on every visit, which keeps its
 * subscription from expiring on the server (README "Web push"). Which channels push is on for is the page's form.
 */
// A module (its names stay its own; entries are bundled separately).
export {};

type PushState = 'no-script' | 'unsupported' | 'denied' | 'enabled' | 'failed' | 'ask';

const root = document.querySelector<HTMLElement>('[data-push]');

function show(state: PushState): void {
  for (const element of root?.querySelectorAll<HTMLElement>('[data-push-state]') ?? []) {
    element.hidden = element.dataset.pushState !== state;
  }
}

/** The session's CSRF token, from any of the page's forms (the frame's sign-out form has it). */
function csrfToken(): string {
  return document.querySelector<HTMLInputElement>('input[name="_csrf"]')?.value ?? '';
}

/** A VAPID public key (base64url) as the bytes pushManager.subscribe wants. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function register(subscription: PushSubscription): Promise<void> {
  const response = await fetch('/api/v1/me/push-subscriptions', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrfToken() },
    body: JSON.stringify(subscription.toJSON()),
  });
  if (!response.ok) throw new Error(`registering the push subscription answered ${response.status}`);
}

async function enable(registration: ServiceWorkerRegistration): Promise<void> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    show(permission === 'denied' ? 'denied' : 'ask');
    return;
  }
  const keyResponse = await fetch('/api/v1/push/public-key', { credentials: 'same-origin' });
  if (!keyResponse.ok) throw new Error(`the push key answered ${keyResponse.status}`);
  const { publicKey } = (await keyResponse.json()) as { publicKey: string };
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(publicKey),
  });
  await register(subscription);
  show('enabled');
}

async function start(): Promise<void> {
  if (!root) return;
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    show('unsupported');
    return;
  }
  if (Notification.permission === 'denied') {
    show('denied');
    return;
  }
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  const existing = await registration.pushManager.getSubscription();
  if (existing && Notification.permission === 'granted') {
    await register(existing);
    show('enabled');
    return;
  }
  show('ask');
  root.querySelector<HTMLButtonElement>('[data-push-enable]')?.addEventListener('click', () => {
    enable(registration).catch(() => show('failed'));
  });
}

start().catch(() => show('failed'));
