/** A system under test, as the runner sees it. */
export interface SystemUnderTest {
  /** `postwarden`, `postfix` or `ceiling`. */
  name: string;
  smtpPort?: number;
  httpPort?: number;
  /** SMTP AUTH user and password; the password is also the HTTP bearer token. */
  user: string;
  password: string;
  /** Every process whose CPU and memory count as this system's, listed afresh each call. */
  pids(): number[];
  stop(): Promise<void>;
  /**
   * Stop delivering until `releaseDelivery` (`postwarden-intake`): the runner holds
   * delivery during the measured load, so the intake has the machine to itself.
   */
  holdDelivery?(): Promise<void>;
  releaseDelivery?(): Promise<void>;
}
