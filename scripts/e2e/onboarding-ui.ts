/**
 * The Odoo 18 screens the onboarding walk-through uses, driven the way an admin does: menus, forms,
 * buttons (Playwright on Debian's Chromium). Each method waits for what the admin would see before
 * going on; none sleeps.
 */
import type { WorkerSettings } from '@workshop-iot/shared';
import type { Locator, Page } from 'playwright-core';
import { waitFor } from '../lib/wait.ts';

const TIMEOUT_MS = 30_000;
/** How long a click on Activate may take to send its install request before it is tried again. */
const INSTALL_CLICK_MS = 10_000;

export interface SessionRowText {
  machine: string;
  durations: Record<'total' | 'working' | 'standby', string>;
}

export class OdooUi {
  constructor(
    readonly page: Page,
    readonly url: string,
  ) {
    page.setDefaultTimeout(TIMEOUT_MS);
  }

  async login(login: string, password: string): Promise<void> {
    await this.page.goto(`${this.url}/web/login`);
    await this.page.fill('input[name=login]', login);
    await this.page.fill('input[name=password]', password);
    await this.page.click('button[type=submit]');
    await this.page.waitForSelector('.o_main_navbar');
  }

  /** Apps > search > Activate; resolves when the app's menu is in the navbar. */
  async installApp(name: string): Promise<void> {
    await this.openApp('base.menu_management');
    const search = this.page.locator('.o_searchview_input');
    await search.fill(name);
    await search.press('Enter');
    const card = this.page.locator('.o_kanban_record', { hasText: name }).first();
    const activate = card.locator('button[name=button_immediate_install]');
    // Odoo reloads the web client once the install committed.
    const reloaded = this.page.waitForEvent('load', { timeout: 180_000 });
    // The kanban renders again while the search settles (two searches after Enter); a click on a
    // card that is being replaced is lost (seen once in CI: no install request, 180 s timeout).
    // So the click counts only once the install request left, and is repeated otherwise.
    for (let attempt = 1; ; attempt++) {
      const sent = this.page
        .waitForRequest(
          (r) => r.url().includes('/call_button/ir.module.module/button_immediate_install'),
          {
            timeout: INSTALL_CLICK_MS,
          },
        )
        .then(
          () => true,
          () => false,
        );
      await activate.click();
      if (await sent) break;
      if (attempt === 3) throw new Error(`Activate on ${name} sent no install request (3 clicks)`);
    }
    await reloaded;
    await this.page.waitForSelector('.o_main_navbar');
  }

  /** Settings > Workshop IoT: the workshop's time zone; Save reloads the web client. */
  async workshopSettings(values: { timezone: string }): Promise<void> {
    await this.openApp('base.menu_administration');
    await this.page.click('.settings_tab .tab[data-key=workshop_iot]');
    const tz = this.field('workshop_timezone');
    await this.selectOption(tz, values.timezone);
    const reloaded = this.page.waitForEvent('load');
    await this.page.click('.o_control_panel .o_form_button_save');
    await reloaded;
    await this.page.waitForSelector('.settings_tab .tab[data-key=workshop_iot]');
    const saved = await this.field('workshop_timezone').locator('select').inputValue();
    if (saved !== `"${values.timezone}"` && saved !== values.timezone)
      throw new Error(`the workshop timezone reads ${saved} after saving`);
  }

  async createBroker(b: { name: string; url: string; username: string; password: string }) {
    await this.openMenu('workshop_iot.workshop_broker_menu');
    await this.page.click(
      '.o_control_panel .o_list_button_add, .o_control_panel .o-kanban-button-new',
    );
    await this.fill('name', b.name);
    await this.fill('url', b.url);
    await this.fill('username', b.username);
    await this.fill('password', b.password);
    await this.save();
  }

  /**
   * Workers > Connect a worker: name, uid, URL, broker -> step 2 shows the token, the API key and
   * the worker settings file with them filled in. Returns that file, parsed.
   */
  async connectWorkerStart(w: {
    name: string;
    uid: string;
    url: string;
    broker: string;
  }): Promise<WorkerSettings> {
    await this.openMenu('workshop_iot.workshop_worker_menu');
    await this.page.click('.o_control_panel button:has-text("Connect a worker")');
    const modal = this.page.locator('.modal .o_wiot_connect_step1');
    await this.fill('name', w.name, modal);
    await this.fill('worker_uid', w.uid, modal);
    await this.fill('url', w.url, modal);
    await this.many2one('broker_id', w.broker, modal);
    await this.page.click('.modal button[name=action_create_worker]');
    const file = this.page.locator(
      '.modal .o_wiot_connect_step2 .o_field_widget[name=settings_file] pre',
    );
    const text = (await file.textContent()) ?? '';
    return JSON.parse(text) as WorkerSettings;
  }

  /** Step 3: "Waiting for the worker…" turns green on its first hello, without a reload. */
  async connectWorkerWaitOnline(): Promise<void> {
    await this.page.click('.modal button[name=action_wait]');
    await this.page.waitForSelector('.modal .o_wiot_worker_waiting');
  }

  async connectWorkerOnline(timeoutMs: number): Promise<void> {
    await this.page.waitForSelector('.modal .o_wiot_worker_connected', { timeout: timeoutMs });
  }

  /** "Open the worker": its form says Online. */
  async connectWorkerFinish(): Promise<void> {
    await this.page.click('.modal button[name=action_open_worker]');
    await this.page.waitForSelector(
      'body:not(:has(.modal)) .o_form_view .o_field_widget[name=status]:has-text("Online")',
    );
  }

  /** Machines > New (Shelly Gen2); returns the topic the form derived from the device id. */
  async createMachine(m: {
    name: string;
    deviceId: string;
    worker: string;
    area: string;
    standbyW: number;
    workingW: number;
  }): Promise<string> {
    await this.openMenu('workshop_iot.workshop_device_menu');
    await this.page.click(
      '.o_control_panel .o_list_button_add, .o_control_panel .o-kanban-button-new',
    );
    await this.fill('name', m.name);
    await this.selectOption(this.field('parser_type'), 'Shelly Gen2/Gen3 (Plus, Pro, PM Mini)');
    await this.fill('device_id', m.deviceId);
    await this.page.locator('.o_form_view').click({ position: { x: 5, y: 5 } });
    const topicInput = this.field('topic').locator('input');
    await this.page.waitForFunction(
      (id) =>
        (document.querySelector('.o_field_widget[name=topic] input') as HTMLInputElement)?.value ===
        id,
      m.deviceId,
    );
    const topic = await topicInput.inputValue();
    await this.many2one('worker_id', m.worker);
    await this.fill('area', m.area);
    await this.fill('standby_threshold_w', String(m.standbyW));
    await this.fill('working_threshold_w', String(m.workingW));
    // Real seconds: the simulated meter runs 30x faster than the worker's clock.
    await this.fill('start_debounce_s', '1');
    await this.fill('stop_debounce_s', '2');
    await this.save();
    return topic;
  }

  /** Workshop > Dashboard: the machine's tile shows Working (live, no reload). */
  async dashboardShowsWorking(machine: string, timeoutMs: number): Promise<void> {
    await this.openMenu('workshop_iot.dashboard_menu');
    await this.page
      .locator('.o_workshop_iot_tile[data-state=working]', { hasText: machine })
      .waitFor({ timeout: timeoutMs });
  }

  /** Sessions list: waits for the machine's closed session; returns its duration cells' text. */
  async closedSessionRow(machine: string, timeoutMs: number): Promise<SessionRowText> {
    await this.openMenu('workshop_iot.workshop_session_menu');
    const row = this.page.locator('.o_list_view .o_data_row', { hasText: machine }).filter({
      hasNot: this.page.locator('td[name=state] :text("Running")'),
    });
    // The list is not live: a user opens it again until the session is there.
    await waitFor(
      async () =>
        (await row.count()) > 0 ||
        (await this.openMenu('workshop_iot.workshop_session_menu').then(() => false)),
      `a closed session of ${machine} in the Sessions list`,
      timeoutMs,
      1000,
    );
    const cell = async (name: string) =>
      (await row.first().locator(`td[name=${name}]`).textContent()) ?? '';
    return {
      machine,
      durations: {
        total: (await cell('total_hours')).trim(),
        working: (await cell('working_hours')).trim(),
        standby: (await cell('standby_hours')).trim(),
      },
    };
  }

  /** Configuration > Discovered meters: waits until the meter announced under `topic` is listed. */
  async discoveredMeterListed(topic: string, timeoutMs: number): Promise<void> {
    const row = this.page.locator('.o_list_view .o_data_row', { hasText: topic });
    await waitFor(
      async () =>
        (await row.count()) > 0 ||
        (await this.openMenu('workshop_iot.workshop_discovered_meter_menu').then(() => false)),
      `the meter ${topic} under Discovered meters`,
      timeoutMs,
      1000,
    );
  }

  /**
   * Opens the listed meter and clicks "Add as machine" on its first channel; returns the topic of
   * the pre-filled machine form (left unsaved: discarded).
   */
  async addDiscoveredMeter(topic: string): Promise<string> {
    await this.page.locator('.o_list_view .o_data_row', { hasText: topic }).first().click();
    await this.page.click('.o_field_widget[name=channel_ids] button[name=action_add_machine]');
    await this.page.waitForSelector('.o_form_view .o_field_widget[name=device_id] input');
    const prefilled = await this.field('topic').locator('input').inputValue();
    await this.page.click('.o_form_button_cancel');
    return prefilled;
  }

  // ---------------------------------------------------------------------------------------------

  field(name: string, scope: Locator | Page = this.page): Locator {
    return scope.locator(`.o_field_widget[name=${name}]`).first();
  }

  async fill(name: string, value: string, scope: Locator | Page = this.page): Promise<void> {
    await this.field(name, scope).locator('input, textarea').first().fill(value);
  }

  async selectOption(field: Locator, label: string): Promise<void> {
    await field.locator('select').selectOption({ label });
  }

  async many2one(name: string, text: string, scope: Locator | Page = this.page): Promise<void> {
    await this.fill(name, text, scope);
    await this.page.locator('.o-autocomplete--dropdown-item', { hasText: text }).first().click();
  }

  async save(): Promise<void> {
    await this.page.click('.o_form_button_save');
    await this.page.waitForSelector('.o_form_view .o_form_button_save', { state: 'hidden' });
  }

  /** Opens an app from the navbar's apps menu (no page load: the web client stays up). */
  async openApp(xmlid: string): Promise<void> {
    await this.page.click('.o_navbar_apps_menu button');
    await this.page.click(`.o-dropdown-item[data-menu-xmlid="${xmlid}"]`);
    await this.page.waitForSelector(`.o_menu_brand[data-menu-xmlid="${xmlid}"]`);
  }

  /** Opens a Workshop menu item by its xml id, through the navbar as a user clicks it. */
  async openMenu(xmlid: string): Promise<void> {
    const brand = this.page.locator('.o_menu_brand[data-menu-xmlid="workshop_iot.menu_root"]');
    if (!(await brand.count())) await this.openApp('workshop_iot.menu_root');
    const top = this.page.locator(`.o_menu_sections [data-menu-xmlid="${xmlid}"]`);
    // A section dropdown (Configuration) renders its items in an overlay, outside the navbar.
    const item = (await top.count())
      ? top
      : this.page.locator(`.o-dropdown--menu [data-menu-xmlid="${xmlid}"]`);
    if (!(await top.count()))
      await this.page.click('.o_menu_sections .dropdown-toggle:has-text("Configuration")');
    await item.click();
    await this.page.waitForSelector(
      '.o_action_manager .o_view_controller, .o_action_manager .o_action',
    );
  }
}
