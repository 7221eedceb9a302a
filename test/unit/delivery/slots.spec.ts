import { Slots } from '../../../src/delivery/slots.js';

describe('handler slots', () => {
  it('never hands out more than its capacity and wakes waiters on release', async () => {
    const slots = new Slots(2);
    expect(slots.take(5)).toBe(2);
    expect(slots.free).toBe(0);
    let woken = false;
    const waiting = slots.whenFree().then(() => {
      woken = true;
    });
    await Promise.resolve();
    expect(woken).toBe(false);
    slots.release();
    await waiting;
    expect(woken).toBe(true);
    expect(slots.take(1)).toBe(1);
  });

  it('reports idle once every slot is back', async () => {
    const slots = new Slots(3);
    slots.take(2);
    const idle = slots.whenIdle();
    slots.release();
    slots.release();
    await expect(idle).resolves.toBeUndefined();
  });

  it('serves an urgent request before ordinary waiters, asking the holder to let go', async () => {
    let pressure = 0;
    const slots = new Slots(2, () => {
      pressure += 1;
    });
    slots.take(2);
    let ordinaryWoken = false;
    void slots.whenFree().then(() => {
      ordinaryWoken = true;
    });
    const urgent = slots.takeUrgent(5, 10_000);
    expect(pressure).toBe(1);
    slots.release(2);
    await expect(urgent).resolves.toBe(2);
    expect(slots.free).toBe(0);
    await Promise.resolve();
    expect(ordinaryWoken).toBe(false);
    slots.release();
    await Promise.resolve();
    expect(ordinaryWoken).toBe(true);
  });

  it('wakes a waiter only once as many slots as it asked for are free', async () => {
    const slots = new Slots(4);
    slots.take(4);
    let isWoken = false;
    void slots.whenFree(2).then(() => {
      isWoken = true;
    });
    slots.release();
    await Promise.resolve();
    expect(isWoken).toBe(false);
    slots.release();
    await Promise.resolve();
    expect(isWoken).toBe(true);
  });

  it('wakes every waiter on wakeAll, so a stopping loop can leave', async () => {
    const slots = new Slots(1);
    slots.take(1);
    const waiting = slots.whenFree();
    slots.wakeAll();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('gives an urgent request nothing once its time is up', async () => {
    const slots = new Slots(1);
    slots.take(1);
    await expect(slots.takeUrgent(1, 10)).resolves.toBe(0);
    slots.release();
    expect(slots.free).toBe(1);
  });
});
