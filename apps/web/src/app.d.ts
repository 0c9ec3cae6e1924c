// Ambient types for the console. See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {}
}

export {};
