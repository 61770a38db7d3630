// A lease state in its colour (text only: state names are from the API's enum).
export function State({ state }: { state: string }) {
  return <span class={`state s-${state}`}>{state}</span>;
}
