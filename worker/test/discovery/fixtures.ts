/**
 * Announcements published by real devices, copied from public documentation, issue threads and
 * projects' captured logs (source URL beside each). Byte for byte as published unless the comment
 * says how it was framed (a Shelly status object quoted alone is wrapped in the RPC frame Shelly
 * documents at https://shelly-api-docs.shelly.cloud/gen2/General/RPCProtocol#response-frame).
 */

// --- Shelly Gen1: shellies/announce -------------------------------------------------------------

/**
 * Shelly 3EM whose id was set to `shellies/shellyem3` (so its topics are `shellies/shellies/...`).
 * Source: https://github.com/koestler/go-mqtt-to-influx/blob/main/converter/shelly.go (captured log)
 */
export const GEN1_3EM_ANNOUNCE =
  '{"id":"shellies/shellyem3","model":"SHEM-3","mac":"244CAB4354E2","ip":"192.168.8.100","new_fw":false,"fw_ver":"20220415-105853/v1.11.7-25-gb3b096857-v1.11.7-3em"}';

/** Shelly 1 (no power meter). Source: same file as GEN1_3EM_ANNOUNCE. */
export const GEN1_SHELLY1_ANNOUNCE =
  '{"id":"shelly1","model":"SHSW-1","mac":"8CAAB54B98DF","ip":"192.168.8.93","new_fw":false,"fw_ver":"20220809-123240/v1.12-g99f7e0b"}';

/**
 * What Shelly's own Gen2 script example publishes on `shellies/announce` for Gen1 compatibility: the
 * device's `Shelly.GetDeviceInfo` (here the 3EM-63 Gen3 one below). Not a Gen1 device.
 * Source: https://github.com/ALLTERCO/shelly-script-examples/blob/main/mqtt-announce.js
 */
export const GEN2_SCRIPT_ON_GEN1_ANNOUNCE =
  '{"name":null,"id":"shelly3em63g3-redacted","mac":"redacted","slot":1,"model":"S3EM-003CXCEU63","gen":3,"fw_id":"20241114-135317/1.4.99-3emg3prod1-g2299489","ver":"1.4.99-3emg3prod1","app":"S3EMG3","auth_en":false,"auth_domain":null,"profile":"triphase"}';

// --- Shelly Gen2+: <prefix>/events/rpc, <prefix>/status/<component>, Shelly.GetDeviceInfo --------

/**
 * Shelly 3EM-63 Gen3 `Shelly.GetDeviceInfo` result (HTTP `/shelly` returns the same object).
 * Source: https://github.com/home-assistant-libs/aioshelly/pull/738 (description)
 */
export const GEN3_3EM63_DEVICE_INFO = GEN2_SCRIPT_ON_GEN1_ANNOUNCE;

/** Shelly Pill `Shelly.GetDeviceInfo`. Source: https://github.com/home-assistant-libs/aioshelly/pull/983 */
export const GEN3_PILL_DEVICE_INFO =
  '{"name":null,"id":"shellypill-abcdef123456","mac":"ABCDEF123456","slot":0,"model":"S3SN-0U53X","gen":3,"fw_id":"20251030-160520/g0e480cb","ver":"1.8.99-pillprod0","app":"Pill","auth_en":false,"auth_domain":null}';

/**
 * Shelly Plus 2PM, prefix `shellyplus2pm-Einfahrt` (changed from the id): `status/switch:0`.
 * Source: https://github.com/iobroker-community-adapters/ioBroker.shelly/issues/813 (log 2023-11-03)
 */
export const PLUS2PM_SWITCH0_STATUS =
  '{"id":0, "source":"init", "output":false, "apower":0.0, "voltage":230.8, "freq":50.0, "current":0.000, "pf":0.00, "aenergy":{"total":123.585,"by_minute":[0.000,0.000,0.000],"minute_ts":1698999959},"temperature":{"tC":44.9, "tF":112.9}}';

/** Same device, same log: a NotifyStatus (a delta, not an announcement). */
export const PLUS2PM_NOTIFY_STATUS =
  '{"src":"shellyplus2pm-3ce90e2f7c34","dst":"shellyplus2pm-Einfahrt/events","method":"NotifyStatus","params":{"ts":1698999960.13,"switch:0":{"id":0,"aenergy":{"by_minute":[0.000,0.000,0.000],"minute_ts":1698999959,"total":123.585}}}}';

/**
 * Shelly Pro 3EM `em:0` status as its debug log printed it ("Status change of em:0: {...}"),
 * the log's two chunks joined.
 * Source: https://github.com/iobroker-community-adapters/ioBroker.shelly/issues/787
 */
export const PRO3EM_EM0_STATUS =
  '{"id":0,"a_act_power":2403.7,"a_aprt_power":2503.5,"a_current":10.739,"a_pf":0.96,"a_voltage":233.3,"b_act_power":409.1,"b_aprt_power":443.1,"b_current":1.872,"b_pf":-0.93,"b_voltage":236.7,"c_act_power":235.3,"c_aprt_power":270.4,"c_current":1.143,"c_pf":-0.87,"c_voltage":236.9,"n_current":null,"total_act_power":3048.104,"total_aprt_power":3217.036,"total_current":13.753}';

/**
 * Shelly Pro EM-50 (Gen3 EM, `em1:N`) `Shelly.GetStatus`, the two em1 components quoted.
 * Source: https://github.com/Jan200101/ShellyPy/issues/20
 */
export const PRO_EM50_EM1_0 =
  '{"id":0,"current":0.08,"voltage":234.9,"act_power":0,"aprt_power":18.7,"pf":0,"freq":50,"calibration":"factory"}';
export const PRO_EM50_EM1_1 =
  '{"id":1,"current":2.598,"voltage":234.9,"act_power":501.8,"aprt_power":612.4,"pf":0.84,"freq":50,"calibration":"factory"}';

/**
 * Shelly Plus 1PM under prefix `shellies/plus1pm`: `status/switch:0` and an `mqtt` NotifyStatus.
 * Source: https://github.com/koestler/go-mqtt-to-influx/blob/main/converter/shelly.go (captured log)
 */
export const PLUS1PM_SWITCH0_STATUS =
  '{"id":0, "source":"init", "output":false, "apower":0.0, "voltage":232.7, "current":0.000, "aenergy":{"total":0.000,"by_minute":[0.000,0.000,0.000],"minute_ts":1661517385},"temperature":{"tC":39.2, "tF":102.5}}';
export const PLUS1PM_NOTIFY_MQTT =
  '{"src":"shellyplus1pm-4417939341dc","dst":"shellies/plus1pm/events","method":"NotifyStatus","params":{"ts":1.61,"mqtt":{"connected":true}}}';

// --- Tasmota: tasmota/discovery/<MAC>/config and /sensors ----------------------------------------

/**
 * A four-relay Tasmota 13.4.0 (`t` = cv-ruimte), config and its sensors (a switch and two DS18B20,
 * no ENERGY: not a meter).
 * Source: https://github.com/enesbcs/shellyteacher4domo/issues/42
 */
export const TASMOTA_4CH_CONFIG =
  '{"ip":"192.168.xxx.xxx","dn":"CV-Ruimte","fn":["Door","Relais1","Relais2","Relais3",null,null,null,null],"hn":"cv-ruimte-5830","mac":"DC4F220756C6","md":"Technische Ruimte","ty":0,"if":0,"ofln":"Offline","onln":"Online","state":["OFF","ON","TOGGLE","HOLD"],"sw":"13.4.0","t":"cv-ruimte","ft":"%prefix%/%topic%/","tp":["cmnd","stat","tele"],"rl":[1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"swc":[-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1,-1],"swn":[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null],"btn":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"so":{"4":0,"11":0,"13":0,"17":0,"20":0,"30":0,"68":0,"73":0,"82":0,"114":0,"117":0},"lk":0,"lt_st":0,"bat":0,"dslp":0,"sho":[],"sht":[],"ver":1}';
export const TASMOTA_4CH_SENSORS =
  '{"sn":{"Time":"2024-03-31T08:46:17","Switch1":"ON","DS18B20-1":{"Id":"3CCCE3810022","Temperature":18.4},"DS18B20-2":{"Id":"3CF0E381CD74","Temperature":17.7},"TempUnit":"C"},"ver":1}';

/**
 * Sonoff Dual R3 (Tasmota 11, ESP32, CSE7761): `tasmota/discovery/94B97E682B78/sensors`, the power
 * of its two relays as an array.
 * Source: https://github.com/arendst/Tasmota/issues/15084 (console log 12:25:37.858)
 */
export const TASMOTA_DUALR3_MAC = '94B97E682B78';
export const TASMOTA_DUALR3_SENSORS =
  '{"sn":{"Time":"2022-03-09T12:25:37","Switch1":"ON","Switch2":"ON","ENERGY":{"TotalStartTime":"2022-02-02T16:01:12","Total":14.83421,"Yesterday":0.00000,"Today":0.00000,"Power":[0.000,0.000],"ApparentPower":[0.000,0.000],"ReactivePower":[0.000,0.000],"Factor":[0.00,0.00],"Voltage":0.0,"Current":[0.000,0.000]},"ESP32":{"Temperature":52.8},"TempUnit":"C"},"ver":1}';

// --- Zigbee2MQTT: zigbee2mqtt/bridge/devices -------------------------------------------------------

/**
 * Two entries of the retained `zigbee2mqtt/bridge/devices` array Zigbee2MQTT's own test expects: a
 * wireless button (no power) and a Xiaomi plug exposing power (W) and energy (kWh).
 * Source: https://github.com/Koenkk/zigbee2mqtt/blob/master/test/bridge.test.js
 */
export const Z2M_BRIDGE_DEVICES =
  '[{"date_code":null,"definition":{"description":"Aqara wireless switch","exposes":[{"access":1,"description":"Remaining battery in %","name":"battery","property":"battery","type":"numeric","unit":"%","value_max":100,"value_min":0},{"access":1,"description":"Voltage of the battery in millivolts","name":"voltage","property":"voltage","type":"numeric","unit":"mV"},{"access":1,"description":"Triggered action (e.g. a button click)","name":"action","property":"action","type":"enum","values":["single","double","triple","quadruple","hold","release"]},{"access":1,"description":"Link quality (signal strength)","name":"linkquality","property":"linkquality","type":"numeric","unit":"lqi","value_max":255,"value_min":0}],"model":"WXKG11LM","supports_ota":false,"vendor":"Xiaomi"},"endpoints":{"1":{"bindings":[],"clusters":{"input":["genBasic"],"output":["genBasic","genOnOff","genLevelCtrl","genScenes"]},"configured_reportings":[{"attribute":1337,"cluster":"genOnOff","maximum_report_interval":10,"minimum_report_interval":1,"reportable_change":20}]}},"friendly_name":"button","ieee_address":"0x0017880104e45520","interview_completed":true,"interviewing":false,"model_id":"lumi.sensor_switch.aq2","network_address":6537,"power_source":"Battery","software_build_id":null,"supported":true,"type":"EndDevice"},{"date_code":null,"definition":{"description":"Mi power plug ZigBee","exposes":[{"features":[{"access":7,"description":"On/off state of the switch","name":"state","property":"state","type":"binary","value_off":"OFF","value_on":"ON","value_toggle":"TOGGLE"}],"type":"switch"},{"access":5,"description":"Instantaneous measured power","name":"power","property":"power","type":"numeric","unit":"W"},{"access":1,"description":"Sum of consumed energy","name":"energy","property":"energy","type":"numeric","unit":"kWh"},{"access":1,"description":"Measured temperature value","name":"temperature","property":"temperature","type":"numeric","unit":"°C"},{"access":7,"description":"Enable/disable the power outage memory, this recovers the on/off mode after power failure","name":"power_outage_memory","property":"power_outage_memory","type":"binary","value_off":false,"value_on":true},{"access":1,"description":"Link quality (signal strength)","name":"linkquality","property":"linkquality","type":"numeric","unit":"lqi","value_max":255,"value_min":0}],"model":"ZNCZ02LM","supports_ota":true,"vendor":"Xiaomi"},"endpoints":{"1":{"bindings":[],"clusters":{"input":["genBasic"],"output":[]},"configured_reportings":[]}},"friendly_name":"power_plug","ieee_address":"0x0017880104e45524","interview_completed":true,"interviewing":false,"model_id":"lumi.plug","network_address":6540,"power_source":"Mains (single phase)","software_build_id":null,"supported":true,"type":"Router"}]';

/**
 * The bridge/devices example of Zigbee2MQTT's documentation (the v1.17 layout): a bulb whose
 * definition has no exposes and an unsupported sensor with `"definition": null`; neither is a meter.
 * Source: https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html (legacy example, the
 * trailing comma of the docs' array removed so it is JSON)
 */
export const Z2M_DOCS_NO_METERS =
  '[{"ieee_address":"0x90fd9ffffe6494fc","type":"Router","network_address":57440,"supported":true,"friendly_name":"my_bulb","definition":{"model":"LED1624G9","vendor":"IKEA","description":"TRADFRI LED bulb E14/E26/E27 600 lumen, dimmable, color, opal white","supports":"on/off, brightness, color xy"},"power_source":"Mains (single phase)","software_build_ID":"1.3.009","date_code":"20180410","interviewing":false,"interview_completed":true},{"ieee_address":"0x00169a00022256da","type":"Router","network_address":22160,"supported":false,"friendly_name":"my_sensor","definition":null,"power_source":"Battery","date_code":"04-28-2019","interviewing":false,"interview_completed":true}]';

/** Wrap a Gen2 status/result object in the RPC response frame of an answer to `src`. */
export function rpcAnswer(id: number, deviceId: string, dst: string, result: string): string {
  return `{"id":${id},"src":"${deviceId}","dst":"${dst}","result":${result}}`;
}
