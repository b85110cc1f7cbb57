"""Letters of the kind a support inbox gets, written for these tests.

Each complaint states a harm in plain words, with dates and amounts and no angry word; each
routine letter is as long and as detailed, and asks for ordinary work. The short routine mails
sit near complaint wording on purpose.
"""

from __future__ import annotations

import pytest

from worker.core.detection import Detector

COMPLAINTS = [
    (
        "In January I moved my savings to your bank. On 3 March a payment of 1,200 pounds left "
        "my account to a company I have never dealt with. I reported it the same day by phone "
        "and was given a reference. Six weeks later the money has not been returned and each "
        "call ends with a promise that someone will look into it."
    ),
    (
        "I cancelled my broadband contract on 14 May with the required 30 days notice and have "
        "the confirmation email. Despite that, two further monthly payments were taken by "
        "direct debit. Your agent said the cancellation had not been processed on your side. I "
        "would like both payments refunded."
    ),
    (
        "My credit report shows a late payment on my car loan for August. I paid that "
        "instalment on time and have the bank statement to prove it. I sent a copy to your "
        "servicing department twice, in September and October, and the mark is still being "
        "reported to the agencies."
    ),
    (
        "We ordered forty office chairs for delivery on 2 June, the date confirmed in writing "
        "when we paid. The delivery was moved three times without notice, and the chairs "
        "finally arrived on 28 June, eleven of them with broken bases. We had to rent chairs "
        "for the new office in the meantime at our own cost."
    ),
    (
        "On 12 April I booked a return flight and paid for extra legroom seats on both legs. On "
        "the outbound flight the seats were given to other passengers and I was moved to row "
        "38. The crew told me to claim the seat fee back online, but the claim form rejects my "
        "booking reference."
    ),
    (
        "I have been a customer of your insurance for eleven years. After the storm in February "
        "I filed a claim for the damaged roof with photos and two builder quotes. The claim has "
        "been with an assessor since then, and every time I call I am told it is pending. "
        "Meanwhile water keeps coming into the bedroom."
    ),
    (
        "A debt collector working for you has called my mobile phone up to five times a day for "
        "the last month, including at work. The debt is not mine; it belongs to a previous "
        "tenant of my flat. I explained this in writing on 4 October and asked for the calls to "
        "stop."
    ),
    (
        "My mortgage payment increased by 300 dollars in July because the escrow account was "
        "recalculated. The recalculation used a property tax figure that is double the actual "
        "bill, which I sent to you. Nobody has corrected it and I am now paying far more than I "
        "owe each month."
    ),
    (
        "The laptop I bought from your online store stopped charging after five weeks. I "
        "returned it under warranty on 1 August. It came back on 20 August with a note saying "
        "no fault found, and it still does not charge. I have now been without a work computer "
        "for a month."
    ),
    (
        "I opened a business account with you in March and was promised that the card reader "
        "would arrive within five working days. It is now the end of May. I have chased the "
        "order four times, and in that time we have lost card sales at our market stall every "
        "weekend."
    ),
    (
        "Your technician was booked to install our fibre line on 9 September between 8 and 12. "
        "Nobody came and nobody called. The appointment was rebooked for 16 September and again "
        "nobody turned up. I took two days of unpaid leave for these visits."
    ),
    (
        "On my last bill I was charged for international roaming while I was at home in Leeds "
        "the whole month. I have checked my phone settings and the phone was never abroad. The "
        "online chat agent said the charges were correct and closed the chat."
    ),
    (
        "I returned a sofa within the 14-day period and the courier signed for it on 3 "
        "November. Your returns team says they have no record of it and will not refund the 899 "
        "pounds. I have the courier's collection receipt with their signature."
    ),
    (
        "The hotel charged my card for two nights after I cancelled the booking within the free "
        "cancellation window. The cancellation confirmation is attached. My bank says the "
        "merchant must issue the refund, and the hotel says to contact you, the booking site."
    ),
    (
        "Since the software update on 10 October our point-of-sale terminals crash several "
        "times a day. Your release notes did not mention any change to the card payment module. "
        "We have logged three tickets; each was closed with a link to the same knowledge base "
        "article, which does not apply to our model."
    ),
    (
        "I applied for a hardship payment plan in June and was told in writing that the account "
        "would be frozen while it was reviewed. In July the account was passed to a collection "
        "agency anyway, and interest continued to be added. I now owe more than before I asked "
        "for help."
    ),
    (
        "My elderly father was sold a premium phone package he does not need and cannot use. "
        "The salesperson visited him at home and he signed on a tablet without being given a "
        "copy of the contract. The monthly cost has tripled. We asked for the contract to be "
        "cancelled and were told it is outside the cooling-off period."
    ),
    (
        "We paid a 5,000 dollar deposit for the kitchen fitting that was due to start in April. "
        "The start date has been postponed four times. The company has now stopped answering "
        "our emails, and the deposit has not been returned."
    ),
    (
        "The parcel tracking says it was delivered and signed for on 21 December, but I was at "
        "home all day and no one knocked. The signature on the proof of delivery is not mine. "
        "The seller says to contact the carrier, and the carrier says only the seller can open "
        "a claim."
    ),
    (
        "My account was closed without any warning on 2 February and the balance of 3,400 euros "
        "is frozen. The letter says only that the bank made a business decision. I have rent "
        "and bills to pay and nobody can tell me when I will get access to my money."
    ),
    (
        "My daughter's school trip was booked through your agency and paid in full in January. "
        "Two weeks before departure we were told the hotel had been changed to one an hour away "
        "from the city. We were not offered a refund or any alternative."
    ),
    (
        "I took out a personal loan with you last year with a fixed rate of 6.9 percent. My "
        "statement this month shows interest charged at 11 percent. Nobody told me the rate "
        "would change and the contract I signed says it is fixed."
    ),
    (
        "We rented a van from your Manchester branch for our house move. At the return the "
        "staff noted no damage and signed the check-in form. A week later our card was charged "
        "640 pounds for a dent in the rear door."
    ),
    (
        "The washing machine you delivered on 4 March leaked on its first use and flooded the "
        "kitchen floor. The engineer who came on 15 March replaced a hose, and it leaked again "
        "the same evening. The floorboards now need replacing."
    ),
    (
        "I reported a gas smell outside my house on Friday and was given a job number. Nobody "
        "came over the weekend and when I called on Monday the job had been closed as resolved. "
        "The smell is still there."
    ),
    (
        "My pension transfer request was sent to you on 2 May with every form you asked for. In "
        "July you wrote asking for the same forms again. The transfer has still not happened "
        "and the value of the fund has dropped in the meantime."
    ),
    (
        "Our restaurant has used your card terminals for six years. Since you changed the "
        "settlement schedule without telling us, payments reach our account five days later "
        "than before, and we could not pay our suppliers on time this month."
    ),
    (
        "My phone contract ended in March and I asked for a SIM-only deal. I was told the "
        "handset payments would stop automatically. They did not, and I have now paid for the "
        "handset three extra months."
    ),
    (
        "The gym membership was frozen for my surgery in June with a letter from my doctor. "
        "Your staff confirmed the freeze at the desk. Monthly fees have been taken throughout "
        "the freeze and the branch manager says there is no record of it."
    ),
    (
        "I ordered a birthday cake for collection at 10am on Saturday and paid online. When I "
        "arrived the shop had no order under my name and the staff could not find my payment. "
        "The party went ahead without a cake."
    ),
    (
        "I closed my credit card account in writing in April and the balance was zero. In "
        "August I received a statement with an annual fee of 150 dollars and a late payment "
        "charge on it."
    ),
    (
        "The removal company you recommended broke a mirror and scratched our dining table. "
        "Their damage form was handed to the driver on the day. Neither they nor you have "
        "replied to the claim in seven weeks."
    ),
    (
        "I applied for a passport renewal through your premium service and paid the fast-track "
        "fee. The passport arrived five weeks later, after my trip, and the fee has not been "
        "refunded."
    ),
    (
        "There are three accounts on my credit file that I did not open. Someone used my "
        "details in 2021, and I have a police report for it. I have asked the agency to remove "
        "them and they were verified as accurate without anyone contacting me."
    ),
    (
        "I moved out of the flat in June and paid the final water bill. In October a collection "
        "agency wrote to me for 230 pounds on that account. I sent them the receipt and they "
        "still add fees each month."
    ),
    (
        "My tax refund was sent to an old bank account even though I updated my details on your "
        "website in March. The old account is closed and the money has been returned to you, "
        "but nobody can say when it will be paid to me."
    ),
    (
        "I asked for my online banking to be unlocked after a password reset. It took four "
        "calls and three identity checks, and every time the lock came back the next morning. I "
        "could not pay my rent by the due date."
    ),
    (
        "The credit limit on my card was cut from 5,000 to 500 without notice while I was "
        "abroad. Two payments at the hotel were declined and I had to borrow money from a "
        "colleague."
    ),
    (
        "Your app shows my loan as two months overdue. I pay by standing order on the first of "
        "every month and my bank statements show every payment. Your agent said the payments "
        "were applied to another customer's loan."
    ),
    (
        "I have been trying to close my late mother's account for five months. I have sent the "
        "death certificate three times by post and once in person at the branch. Each time I am "
        "asked to send it again."
    ),
    (
        "We paid for a conservatory to be built in May. The builders left in August with the "
        "roof unfinished, and rain now comes in over the dining area. Our calls to the office "
        "go to voicemail."
    ),
    (
        "A store card was opened in my name at your shop in Leeds. I have never been to Leeds. "
        "The balance of 1,100 pounds is now with collectors and it is affecting my mortgage "
        "application."
    ),
    (
        "The phone I sent for repair under warranty came back with a different, older phone "
        "inside the box. The serial number does not match the one on my receipt."
    ),
    (
        "I reported my card stolen at 9pm and the bank blocked it at 11pm. In those two hours "
        "four payments went through, and the claim to get them back was refused because I had "
        "reported it too late."
    ),
    (
        "Our team has been locked out of the admin console since the migration on Tuesday. "
        "The status page says all systems are operational. We have a board report due on "
        "Friday and cannot export anything."
    ),
    (
        "The invoice for October bills us for 120 seats. We reduced the plan to 80 seats in "
        "September and your account manager confirmed it by email. This is the second month "
        "the old seat count has been billed."
    ),
    (
        "I booked a physiotherapy appointment through your app for 9am. When I got to the "
        "clinic they had no appointment for me and I had taken the morning off work. The app "
        "still shows the booking as confirmed."
    ),
    (
        "The school meal account was topped up with 50 pounds on 3 May. The payment left my "
        "bank but the balance in your system still shows zero, and my son was refused lunch "
        "on Monday."
    ),
    (
        "We were promised a dedicated onboarding manager when we signed the enterprise "
        "contract in July. Three months later no one has been assigned and our questions go "
        "to the general queue."
    ),
    (
        "The API started returning 500 errors for our largest customer at 14:00 UTC. Your "
        "support chat closed our ticket as a duplicate of another ticket we cannot see. Our "
        "integration has been down for six hours."
    ),
    (
        "My train was cancelled and I was told to claim compensation online. The claim was "
        "refused because the ticket was bought through a third party, although your own "
        "website sold it to me."
    ),
    (
        "The engineer replaced the router on Monday and said the line would be stable from "
        "then on. The connection has dropped eleven times since, and the speed test shows a "
        "tenth of the speed in our contract."
    ),
    (
        "I paid the annual council tax in one payment in April. I have now received a "
        "reminder for the May instalment with a warning of court action."
    ),
    (
        "Our order of printed brochures arrived with the wrong logo on every page. The proof "
        "we approved had the correct one. The event is in three days and your team says a "
        "reprint takes ten."
    ),
    (
        "The subscription renewed at the full price even though the renewal page promised the "
        "loyalty discount. When I asked, the chat agent said the discount had expired and "
        "closed the conversation."
    ),
    (
        "I have asked three times for a copy of my medical records and paid the admin fee "
        "twice. It is now eight weeks and I have received nothing."
    ),
    (
        "The hire car had a warning light on from the moment we collected it. We called the "
        "roadside number on day two and waited four hours on the motorway hard shoulder with "
        "two children."
    ),
    (
        "The developer you sent rewrote our checkout page without testing it, and for two "
        "days customers could not pay. We lost about 9,000 euros in sales."
    ),
    (
        "Hello, I am writing again about order 55812. It was paid on 2 October and the shop "
        "told me it ships in 48 hours. Today is 30 October and the status is still preparing. "
        "Please, I need a real answer this time."
    ),
    (
        "Dear team, I wish to put on record my dissatisfaction with how my claim was handled. "
        "The assessor did not visit the property, the report contains measurements of a "
        "different house, and the settlement offer is based on it."
    ),
    (
        "Good morning. The new version of your mobile app logged all our drivers out and they "
        "cannot log back in with their existing passwords. Our deliveries for the day are on "
        "hold. Nobody from your side has acknowledged the ticket."
    ),
    (
        "Hi, the cleaner you sent yesterday left after one hour of a three-hour booking and "
        "the flat is not done. I was charged for the full three hours."
    ),
    (
        "To whom it may concern, my internet has been cut off because of a payment you say is "
        "missing. The payment was made on the 1st, I have the receipt, and I work from home."
    ),
    (
        "Hello, we sent back the faulty monitor as your colleague instructed and received a "
        "refund for only half of the price. No one explained why."
    ),
    (
        "Your courier left my parcel in the recycling bin in the rain. The laptop inside was "
        "damaged by water and the seller says it is your responsibility."
    ),
    (
        "I was promised a call back from a manager within 24 hours. That was last Tuesday. I "
        "have called again twice and each time I am told the manager is in a meeting."
    ),
    (
        "Hello, the gift card my mother gave me shows a balance of zero. She paid 100 pounds "
        "for it in your store last month and has the receipt. Your store says it was never "
        "activated."
    ),
    (
        "We booked the meeting room for 20 people for a client workshop and when we arrived "
        "it was set up for 8. The staff could not find more chairs and our clients stood for "
        "the first hour."
    ),
    (
        "Dear support, after the price change your system charged us in dollars instead of "
        "euros, so every invoice since July is higher by the exchange rate. Our finance team "
        "has spent days reconciling it."
    ),
    (
        "Hi, my account was hacked and someone ordered 4 phones with my saved card. I "
        "reported it within an hour and I was told the orders were cancelled, but the phones "
        "were delivered and my card was charged."
    ),
    (
        "Hello, the warranty repair took seven weeks instead of the two stated on your "
        "website, and the phone came back with a scratched screen that was not there before."
    ),
    (
        "Good afternoon, for the third time this year our payroll export has the wrong tax "
        "codes after your update. Our staff were underpaid this month and we had to make "
        "manual payments."
    ),
    (
        "Hi there, I cancelled the trial before it ended as the instructions said, but you "
        "charged the annual subscription of 199 dollars anyway. The cancellation email is in "
        "my inbox."
    ),
    (
        "Hi, my package was marked as delivered to a locker that does not exist at my "
        "address. The support bot keeps sending me the same tracking link."
    ),
    (
        "Good evening, please could someone explain why my premium doubled this year when "
        "nothing changed? The letter gives no reason and the helpline wait was 90 minutes."
    ),
    (
        "Hello, I have paid twice for the same parking fine because your website timed out on "
        "the first try. Only one payment shows on your system but both left my account."
    ),
    (
        "Dear sir, the product is not like the pictures on your website. The colour is "
        "different and the material is thin plastic, not metal as described."
    ),
    (
        "Hello, this is my fourth email about the broken dishwasher. Each reply asks me for "
        "the model number, which I have sent every time."
    ),
    (
        "Hi, the hotel you booked for us had no hot water for the whole stay and the "
        "reception said they could do nothing. We would like part of the money back."
    ),
    (
        "Hello, your agent promised me a 20 percent discount on the renewal to stay with you. "
        "The new bill has no discount at all and the call notes show nothing."
    ),
    (
        "Dear team, I am very unhappy with the new billing system. We now get six separate "
        "invoices a month instead of one, and our accountant charges us for each."
    ),
    (
        "Hi, my son's birthday present was delivered open and half of the pieces were "
        "missing. It was his birthday on Saturday."
    ),
    (
        "Hello, after your engineer's visit our alarm goes off at random every night. We have "
        "not slept properly for a week."
    ),
    (
        "Good morning, I was overcharged at the self-checkout and the manager refused to look "
        "at the receipt. I was treated as if I was lying."
    ),
    (
        "Hi, I ordered a size 10 and received a size 14 twice. The third exchange is now "
        "going to cost me return postage again."
    ),
    (
        "Hello, the online form deleted everything I had typed when it timed out, for the "
        "third time. It takes an hour to fill in."
    ),
    (
        "Dear support, our monthly report was sent to another company by mistake. It contains "
        "our client list and prices. We need to know what you are doing about it."
    ),
    (
        "Hi, your new terms remove the free cancellation we had when we signed. We were not "
        "asked and we do not accept the change."
    ),
    (
        "Hello, nobody told us the office would be closed for the holiday and our courier "
        "came back with the documents. We missed a filing deadline because of it."
    ),
    (
        "Hi, I was sold the wrong adapter in your store after explaining exactly what I "
        "needed. The shop will not take it back because the packaging is open."
    ),
    (
        "Hello, since you changed the login to a text code, I cannot get into my account "
        "because the texts never arrive abroad. I have asked for another option three times."
    ),
    (
        "Dear sirs, the taxi booked through your app never came and we missed our flight. The "
        "app still charged the cancellation fee."
    ),
    (
        "Hi, the kitchen fitter left the job half done two weeks ago and does not answer his "
        "phone. We cannot use the sink."
    ),
    (
        "Hello, I returned the boots on 2 September using your prepaid label. Your website "
        "now says the return window has closed and the refund is rejected. The tracking shows "
        "you received them on 5 September."
    ),
    (
        "Hi, we have been billed for a support plan we cancelled last year. When I called, "
        "your team said the cancellation request was never logged, but I have the email with "
        "your reply confirming it."
    ),
    (
        "Dear customer service, my flight was moved forward by six hours without any message. "
        "I found out at the airport and had to buy a new ticket with another airline."
    ),
    (
        "Hi, the courier said he tried to deliver but I was home all day and there was no "
        "card through the door. Now the parcel is at a depot 30 miles away."
    ),
    (
        "Hello, I am very disappointed. The spa day voucher I bought as a gift expired after "
        "three months, although your website says vouchers are valid for a year."
    ),
    (
        "Good morning, the delivery driver damaged our gate post while reversing and drove "
        "off. We have the camera footage."
    ),
    (
        "Hi, my car was booked in for a service and when I collected it the oil warning light "
        "was on. The garage says the oil was not changed even though it is on the invoice."
    ),
    (
        "Hello, I asked to be removed from the marketing list in April. I still get three "
        "emails a week from you."
    ),
    (
        "Dear team, your consultant recommended the premium package as the right fit for a "
        "company of our size. We now know it includes features we cannot use and we pay twice "
        "what the standard plan costs."
    ),
    (
        "Hi, the bank transfer I made on Monday has not reached the recipient. Your app shows "
        "it as completed, the recipient's bank has no record of it, and your helpline cannot "
        "trace it."
    ),
    (
        "Hello, the replacement part you sent is for a different model, the second time this "
        "has happened. Our production line has been stopped for three days waiting for it."
    ),
    (
        "Dear sirs, your collector came to my door at 9pm and spoke to my teenage daughter "
        "about my debt. That is not acceptable."
    ),
    (
        "Hi there, the course I paid for was cancelled two days before the start date and I "
        "have been offered only a credit, not my money back."
    ),
    (
        "Hello, since the upgrade our website loads in 12 seconds instead of 2. Your team "
        "says it is on our side, but nothing on our side has changed."
    ),
    (
        "Hi, I was given a quote of 450 pounds for the repair. The final bill is 780 pounds, "
        "and nobody called me to approve the extra work."
    ),
    (
        "Hi, three weeks ago you confirmed my refund of 64 pounds would be back on my card in "
        "five working days. It is not there and the chat just repeats the five days."
    ),
    (
        "Hello, the electrician you sent could not do the job because he did not bring the "
        "right cable, and we were charged the call-out fee."
    ),
    (
        "Dear team, your app deducted the monthly fee twice this month and the second one "
        "pushed my account into overdraft. My bank charged me 25 pounds for it."
    ),
    (
        "Hello, I have been on the phone with your billing department for a total of four "
        "hours this week and the problem is still not solved."
    ),
    (
        "Hi, our shared drive lost a week of files after your maintenance on Sunday. The "
        "backup you promised in the contract turns out to be only 24 hours old."
    ),
    (
        "Dear support, the new firmware bricked two of our scanners. Your notes say to roll "
        "back, but the rollback file gives an error too."
    ),
    (
        "Hello, I was told my application was approved, then a week later I received a letter "
        "saying it was declined. No one will explain the change."
    ),
    (
        "Hi, I booked a double room and was given a twin room with a broken window. The front "
        "desk said there were no other rooms."
    ),
    (
        "Hello, the lawn treatment company you partner with burned half of our lawn with the "
        "wrong product. They say it will grow back, but it is brown after a month."
    ),
    (
        "Dear sir or madam, my pension statement shows contributions missing for four months "
        "last year, even though they were deducted from my salary."
    ),
    (
        "Hi, our shipment was held at customs because your team filled in the wrong commodity "
        "code. We are paying storage fees every day it stays there."
    ),
    (
        "Hello, I paid for express delivery to get the dress in time for a wedding on "
        "Saturday. It arrived on Monday and you refunded only the difference in postage."
    ),
    (
        "Hi, the manager promised to call me back about the damaged sofa by Friday. It is "
        "Wednesday now. I am tired of chasing this."
    ),
    (
        "Dear support, your password reset emails go to my old work address, which I no "
        "longer have, and the form to change it needs a code sent to that same address."
    ),
    (
        "Hello, I cancelled my gym membership in person in January and signed the form. "
        "Payments are still being taken and the branch cannot find my form."
    ),
    (
        "Hello, we switched to your payroll service in April on the promise of a one-day "
        "migration. It is now June, two pay runs have gone out late, and our staff are asking "
        "whether they will be paid this month."
    ),
    (
        "Hi, the furniture was due between 8am and 12pm. At 4pm I called and was told the van "
        "had broken down and it would come tomorrow. Nobody thought to tell me before I had "
        "waited all day."
    ),
    (
        "Dear support, my account shows a credit of 300 dollars from your overbilling last "
        "year. Every time I ask for it to be paid out, I am told it will be used against "
        "future bills, but I have closed the account."
    ),
    (
        "Hello, the heating engineer has been out four times for the same fault and the "
        "boiler still shuts off every evening. We have a newborn at home."
    ),
    (
        "Hi, your website took payment for two tickets but the confirmation shows only one. "
        "The venue says they cannot let the second person in without a ticket."
    ),
    (
        "Hello, I was charged a late fee on my card although the payment date fell on a bank "
        "holiday and I paid the next working day, as your own terms allow."
    ),
    (
        "Dear team, we reported a data error in the quarterly report three weeks ago. The "
        "corrected report still has the same error and our board meeting is tomorrow."
    ),
    (
        "Hello, the insurance renewal quoted 620 pounds online, but the amount taken was 845. "
        "The online quote is in my account history."
    ),
    (
        "Hi, the replacement glasses you sent have the wrong prescription. I have had "
        "headaches for a week and I cannot drive with them."
    ),
    (
        "Dear sirs, my deposit has not been returned two months after I moved out, and the "
        "letting agent has stopped replying to my emails."
    ),
    (
        "Hello, your update removed the export button we use every day, with no warning in "
        "the release notes. We now copy the figures by hand."
    ),
    (
        "Hi, the paint you mixed for us is a different shade from the sample, and the whole "
        "living room now has to be repainted."
    ),
    (
        "Hello, my son was charged full fare on his student pass for the whole of September "
        "because your system did not load the discount."
    ),
    (
        "Hi, I have explained my situation to five different agents and each one started from "
        "the beginning. I would like one person to own this."
    ),
    (
        "Hello, I received a bill from your clinic for a blood test that my insurer says was "
        "never submitted to them. Your billing office says to call the insurer, and the "
        "insurer says to call you."
    ),
    (
        "Dear support, the marketplace seller never sent my order and your buyer protection "
        "claim was closed automatically after 14 days while I was waiting for the seller to "
        "reply as you told me to."
    ),
    (
        "Hello, we were moved to a new tariff without our agreement when the fixed deal "
        "ended, and the new rate is almost double. We only found out from the bill."
    ),
    (
        "Hi, my passport application has been returned to me twice for a missing document, "
        "and both times the document was in the envelope."
    ),
    (
        "Hello, your bank blocked my card for security while I was abroad and the only way to "
        "unblock it is a phone number that does not work from outside the country."
    ),
    (
        "Hi, the fee for my current account went from zero to 12 pounds a month. The letter "
        "about it was sent to an address I left three years ago, although you have my new "
        "one."
    ),
    ("Hello, my order was split into three parcels and I was charged delivery three times."),
    (
        "Dear sirs, I have been paying for a broadband speed of 500 megabits for a year and "
        "your engineer has now confirmed the line can only carry 80."
    ),
    (
        "Hi, my father's care home fees were taken from his account twice this month, and the "
        "home says the second payment will be returned within 90 days."
    ),
    (
        "Hello, the parking app charged me for a whole day when I parked for 40 minutes, and "
        "the receipt shows the correct end time."
    ),
    (
        "Hi, the tiles we ordered arrived in two different batches with a visible difference "
        "in colour, so half the bathroom does not match."
    ),
    (
        "Dear support, our service has been suspended for a late payment of 3 pounds caused "
        "by your own price change, which we were not told about."
    ),
    (
        "Hi, I returned my rental car with a full tank and the receipt from the petrol "
        "station two minutes away. You still charged me a refuelling fee of 60 euros."
    ),
    (
        "Hello, the hospital parking machine took my card payment but did not print a ticket, "
        "and I got a penalty notice in the post a week later."
    ),
    (
        "Dear support, our shop has been listed on your map with the wrong opening hours for "
        "two months. Customers arrive to a closed door and leave us one-star reviews."
    ),
    (
        "Hi, my pre-order was supposed to ship on release day. Friends who ordered the same "
        "item later already have theirs, and mine still has no tracking."
    ),
    (
        "Hello, you changed my seat allocation from a window to a middle seat after I had "
        "paid 25 pounds to choose it, and you will not refund the seat fee."
    ),
    (
        "Dear team, we were told the system upgrade would take one hour on Saturday night. "
        "The system was down until Monday lunchtime and we lost a weekend of online orders."
    ),
    (
        "Hi, my energy bill is based on an estimated reading even though I submit a meter "
        "reading every month on your app. This month's bill is 200 pounds higher than last "
        "year."
    ),
    (
        "Hello, I asked for the broken window in our flat to be repaired in October. The "
        "housing office keeps saying it is on the list, and it is now December."
    ),
    (
        "Hi, the bank charged me an overdraft fee on a day my account was in credit, because "
        "a deposit I made in the morning was only counted the next day."
    ),
    (
        "Dear support, your driver refused to carry the parcel upstairs although we paid "
        "extra for delivery to the room of choice."
    ),
    (
        "Hello, my mobile number was transferred to another person by mistake, and now they "
        "receive my bank security codes."
    ),
    (
        "Hi, the online course platform deleted all my progress when it moved to the new "
        "version. I had finished 80 percent of the course."
    ),
    (
        "Hello, I am still waiting for the engineer's report you said would be sent within "
        "five working days of the visit on 3 March."
    ),
    (
        "Dear customer care, the shoes split along the sole after two weeks of normal wear "
        "and the shop says it is wear and tear."
    ),
    (
        "Hi, you sent me a letter saying I owe 400 pounds for a service I never had. When I "
        "called, the agent said it was a system error but the letter is still valid until I "
        "pay."
    ),
    (
        "Hello, I was promised a refund when I returned the jacket, and instead I received a "
        "store credit note that expires in 30 days."
    ),
    (
        "Hi, your agent closed my complaint as resolved without asking me. Nothing has been "
        "resolved."
    ),
    (
        "Dear support, the contractor you sent cut through our internet cable while digging "
        "and left without telling anyone. We have had no internet for two days."
    ),
    (
        "Hello, my online banking shows a payment to a company I have never heard of, and "
        "your fraud team says it was authorised with my code. I never gave anyone my code."
    ),
    (
        "Hi, our conference booking was given to another group on the day and we were offered "
        "a smaller room in another building."
    ),
    (
        "Hello, the new meter you installed reads twice as fast as the old one, and our bill "
        "has doubled since the swap."
    ),
    (
        "Dear team, we pay for next-day delivery on every order and for the last month every "
        "order has taken three to four days."
    ),
    (
        "Hi, the bike I bought from you has a cracked frame after a month of commuting. The "
        "repair shop you sent me to says the warranty does not cover cracks."
    ),
    (
        "Hello, you cancelled my appointment by text the evening before and the next free "
        "slot is in six weeks."
    ),
    (
        "Hi, I was locked out of my account for a week after a password reset that I did not "
        "request, and support could not tell me why."
    ),
    (
        "Dear support, each invoice you send has a different total for the same service, and "
        "we spend hours every month checking them."
    ),
    (
        "Hello, the cot you delivered for our baby was missing the safety bolts, and the "
        "replacement bolts have still not arrived."
    ),
    (
        "Hi, your price match promise was refused at the till because the competitor's price "
        "was online only, which your policy does not say."
    ),
    ("Hello, my loyalty points disappeared after your system update, about 18,000 points."),
    (
        "Dear sir, I was given the wrong medicine dose on the label of my prescription and "
        "only noticed when my doctor asked."
    ),
    (
        "hi, i order the blue one and you send me the red one, second time now. i need it for "
        "my daughter birthday"
    ),
    (
        "Hello, my luggage came back from the flight with the handle ripped off and a wheel "
        "missing. The desk at the airport gave me a form and said nobody can help today."
    ),
    (
        "Good day, the washing machine installer left water all over the floor and did not "
        "connect the drain hose. We found out when the kitchen flooded."
    ),
    (
        "Hi, since 3 weeks I pay for the premium plan but the premium features are still "
        "locked in my account."
    ),
    (
        "Dear sir, I have not received my salary advance that your app approved on Friday, "
        "and your chat says the money was sent."
    ),
    (
        "Hello, we ordered catering for 40 people and food for about 25 arrived. The guests "
        "of our event went hungry."
    ),
    (
        "Hi there, the hotel charged my card a deposit of 200 euros at check-in which was "
        "never released after check-out, one month ago."
    ),
    (
        "Hello, my phone screen was replaced at your store and now the touch does not work in "
        "the bottom part of the screen."
    ),
    (
        "Hi, your website said in stock, I paid, and two days later I got an email that the "
        "item is out of stock and the refund will take 10 days."
    ),
    (
        "Dear team, the translation you delivered has whole paragraphs missing and wrong "
        "numbers in the tables. We only saw it after sending it to our client."
    ),
    (
        "Hello, the heating in our rented flat has been broken since November and the "
        "landlord's agent you appointed answers only to say it is on order."
    ),
    (
        "Hi, I got a parking fine from your car park although my ticket was valid, and the "
        "appeal form on your website gives an error."
    ),
    ("Hello, you have sent my new credit card to my neighbour's address, twice."),
    (
        "Hi, my son's school photos were printed with another child's name on the back, and "
        "the replacement costs us 15 pounds."
    ),
    (
        "Dear support, the voice assistant in our car stopped working after your software "
        "update and the dealer says there is no fix yet."
    ),
    (
        "Hello, we returned the leased printer at the end of the contract and you are still "
        "invoicing us the monthly rental three months later."
    ),
    (
        "Hi, the travel insurance claim for my cancelled trip was refused because the "
        'doctor\'s letter was "not on headed paper". It was on headed paper; I have sent a '
        "scan twice."
    ),
    (
        "Hello, the taxi driver took a much longer route and the fare was twice the estimate "
        "shown in your app."
    ),
    (
        "Hi, the gym closed the pool for four months for repairs and kept charging the full "
        "membership fee."
    ),
    (
        "Hello, my broadband was switched to the new provider a week early and I have had no "
        "internet while working from home."
    ),
    (
        "Dear team, our data export has been stuck at 99 percent for two days, and our "
        "migration deadline is on Friday."
    ),
    (
        "Hi, your email told me my order would arrive today and asked me to stay at home. "
        "Nothing came and the tracking has not moved since Monday."
    ),
    (
        "Hello, I bought a two-year warranty with my fridge, and now that it has broken the "
        "shop says the warranty is with a different company that does not answer."
    ),
    (
        "Hi, my wife and I were seated apart on a twelve-hour flight although we booked "
        "together and paid for seat selection."
    ),
    (
        "Dear sir, the landlord has taken 300 pounds from our deposit for cleaning that the "
        "check-out report says was not needed."
    ),
    (
        "Hello, after moving to your new pricing, our bill includes a charge for every user "
        "who logged in once, even those we removed the same day."
    ),
    (
        "Hi, I reported the streetlight outside our house broken in August. It is still dark "
        "and last week my neighbour fell."
    ),
    (
        "Hello, you charged my card for an annual renewal even though I turned off auto-renew "
        "in the app in June and have the screenshot."
    ),
    (
        "Dear support, your agent told me to reset the router to factory settings, and now "
        "none of our devices can connect and our static IP is gone."
    ),
    (
        "Hi, the airline lost my connecting booking when they changed my first flight, and I "
        "only found out at the gate. I had to pay for a new ticket home."
    ),
    (
        "Hello, your web shop applied the discount code to the basket but the confirmation "
        "email shows the full price, and the full price was taken."
    ),
    (
        "Dear support, the SIM you sent for my new contract was never activated, so I have "
        "been without a phone for six days, and each call ends with a new ticket number."
    ),
    (
        "Hi, I am a pensioner and your bank has started charging me for paper statements, "
        "even though I cannot use online banking and told you so in writing."
    ),
    (
        "Hello, the builder you recommended left rubble in our garden and has not come back "
        "to collect it despite three promises."
    ),
    (
        "Dear team, we were double booked with another company for the same meeting room, and "
        "they had the room because they arrived first."
    ),
    (
        "Hi, my dog's food subscription sent the wrong food for a dog with allergies, and she "
        "was ill for two days."
    ),
    (
        "Hello, your online exam system crashed halfway through my exam and I was marked as "
        "failed. The support page says to wait for the next exam date in three months."
    ),
    (
        "Hi, we ordered a custom sofa in green velvet and received a grey one. The shop says "
        'the colour is "within tolerance".'
    ),
    (
        "Dear support, my cancelled flight was refunded as a voucher although I selected cash "
        "refund on your form."
    ),
    (
        "Hello, I have been overcharged on my water bill for a year because the meter number "
        "on my account belongs to the flat upstairs."
    ),
    (
        "Hi, the nursery charged us for the full month of August although it was closed for "
        "two weeks of it."
    ),
    (
        "Hello, the gym trainer booked me into a class that had been cancelled, and I drove "
        "40 minutes for nothing."
    ),
    (
        "Dear team, you published my home address in the public directory after I ticked the "
        "box asking you not to."
    ),
    (
        "Hi, the event tickets I bought were resold by your site to someone else after I "
        "paid, and I was turned away at the door."
    ),
    (
        "Hello, my contact lenses subscription sent the wrong strength for the third month "
        "running. I have had to buy lenses at a high street shop each time."
    ),
    (
        "Hi, I was told at the branch that the mortgage offer would be ready in ten days. It "
        "has been five weeks and the sale of our house may fall through."
    ),
    (
        "Dear support, your system emailed our invoices, with bank details, to a customer who "
        "left us last year."
    ),
    (
        "Hello, the new bin collection schedule skipped our street for three weeks in a row. "
        "The bins are overflowing and attracting rats."
    ),
    (
        "Hi, my pension payment was late this month without any explanation, and I had to "
        "borrow money for rent."
    ),
    (
        "Hello, we received a bill for a second broadband line at our office that we never "
        "asked for and have never used."
    ),
    (
        "Dear team, the courier left our parcel with a neighbour we do not know, and the "
        "neighbour says it never arrived."
    ),
    (
        "Hi, I paid for the wedding photographer's full package and we received only half of "
        "the edited photos we were promised."
    ),
    (
        "Hello, your support closed my ticket saying the issue was fixed, but I was not "
        "contacted and the issue is exactly the same."
    ),
    (
        "Hi, the hotel shuttle you advertise was not running, and we paid 60 euros for a taxi "
        "at midnight."
    ),
    (
        "Dear support, we were charged a cancellation fee although we cancelled within the "
        "free period shown on your own site."
    ),
    (
        "Hello, after the bank merged our accounts, two of our standing orders were lost and "
        "our rent was not paid."
    ),
    (
        "Hi, the customer service number on your website leads to a recorded message that the "
        "line is closed, at 11am on a Tuesday."
    ),
    (
        "Hello, my car insurance was renewed with the wrong car on the policy, and I only "
        "found out when I had a small accident."
    ),
    (
        "Hi, we paid for a premium listing on your site for our holiday home, and it has not "
        "appeared in any search for six weeks."
    ),
]

ROUTINE = [
    (
        "I opened an account with you in 2015 and have since moved to a new address in Bristol. "
        "Could you update the address on the account and send a new card to the new address? My "
        "customer number is 44120."
    ),
    (
        "We are planning to add twenty new users to our subscription next month when the new "
        "team starts. Could you send a quote for the extra seats and tell us whether the annual "
        "discount would apply to them as well?"
    ),
    (
        "I booked a flight for 12 April and would like to add a checked bag for the return leg. "
        "The website only offers it for the outbound flight. Is it possible to add it by phone, "
        "and what would it cost?"
    ),
    (
        "Our company is switching its accounting software in July. Before we do, we need an "
        "export of all invoices you have issued to us since 2019 as a CSV or PDF files. Who "
        "should we ask for that?"
    ),
    (
        "Thank you for installing the fibre line yesterday. The technician was very helpful. "
        "Could you confirm the date the first bill will be issued and whether the installation "
        "fee is included in it?"
    ),
    (
        "I am writing on behalf of my mother, who is a customer of yours. She would like me to "
        "be able to discuss her account with you. What form do we need to fill in, and can it "
        "be signed electronically?"
    ),
    (
        "The laptop I bought from your store in March works well. I would like to buy the "
        "extended warranty for it before the first year ends. Can that still be added, and how "
        "much is it?"
    ),
    (
        "Our office moves to a new building on 1 September. Please move the broadband service "
        "to the new address from that date. The current line can be disconnected on 31 August. "
        "Let me know if you need an engineer visit."
    ),
    (
        "Last year you helped us set up single sign-on with our identity provider. We are now "
        "changing providers and need to update the certificate. Is there a guide for replacing "
        "it without downtime?"
    ),
    (
        "I received the replacement card today, thank you. The old card expired at the end of "
        "last month. Do I need to activate the new one before using it, or can I use it "
        "straight away?"
    ),
    (
        "We would like to change our plan from monthly to annual billing starting with the next "
        "renewal in October. Please confirm the new price and whether the remaining monthly "
        "payments will be prorated."
    ),
    (
        "We would like to add two more admins to the console before the audit next month. Is "
        "there a limit on admin accounts on our plan, and can they have read-only access?"
    ),
    (
        "Could you send the invoice for October again with our new VAT number on it? The "
        "number changed when we moved the company to Ireland in September."
    ),
    (
        "I have an appointment booked through your app for Thursday at 9am. Can I move it to "
        "the afternoon, or do I need to cancel and book again?"
    ),
    (
        "My son starts at the school in September. How do I set up a school meal account for "
        "him, and can I top it up by bank transfer?"
    ),
    (
        "We signed the enterprise contract last week. Who will be our onboarding contact, and "
        "is there a checklist we should prepare before the first call?"
    ),
    (
        "We are planning a load test of our integration next Tuesday at 14:00 UTC. Is there "
        "anything we should tell your team in advance, and are there rate limits we should "
        "stay under?"
    ),
    (
        "I bought a train ticket through a third-party website. If the train is cancelled, do "
        "I claim compensation from you or from the website?"
    ),
    (
        "We are closing our account at the end of the year. Could you tell us how to export "
        "our data first, and how long you keep it after the account is closed?"
    ),
    (
        "Hello, I am writing about order 55812. Could you tell me which courier will deliver "
        "it, so that I can arrange for someone to be at home?"
    ),
    (
        "Dear team, I would like to make a claim for storm damage to my fence. What documents "
        "do you need, and can I send photos by email?"
    ),
    (
        "Good morning. We are rolling out the new version of your mobile app to our drivers "
        "next week. Is there anything they need to do to keep their saved passwords?"
    ),
    (
        "Hi, can I book the cleaner for three hours every second Friday from next month? The "
        "flat has two bedrooms."
    ),
    (
        "To whom it may concern, I will be abroad for three months from January. Can I pause "
        "my internet contract while I am away, and is there a fee for that?"
    ),
    (
        "Hello, we want to return a monitor that is still in its box, bought two weeks ago. "
        "How do we arrange the collection?"
    ),
    ("Hi, I received a gift card for my birthday. Can I use it online as well as in your stores?"),
    (
        "Dear support, our company is moving its billing to euros from next year. Can you "
        "change the currency on our account from January, and will past invoices stay in "
        "dollars?"
    ),
    ("Hi, my parcel is going to a locker. How long will it stay there before it is sent back?"),
    (
        "Good evening, could you explain what is included in the premium for my house "
        "insurance? I am comparing quotes."
    ),
    (
        "Hello, I would like to pay a parking fine online. Which reference number should I "
        "use, the one on the letter or the one on the ticket?"
    ),
    (
        "Dear sir, do you have this chair in a darker colour? The pictures on your website "
        "only show light grey."
    ),
    (
        "Hello, I need the model number of the dishwasher you installed in 2021. Can you find "
        "it on my account?"
    ),
    ("Hi, we are planning a stay in June. Does the hotel have a pool, and is breakfast included?"),
    (
        "Hello, I would like to renew my contract. Are there any discounts for customers who "
        "have been with you for several years?"
    ),
    (
        "Dear team, could we receive one combined invoice each month instead of separate ones "
        "for each service?"
    ),
    ("Hi, I ordered a present for my son's birthday. Can you gift wrap it and include a card?"),
    (
        "Hello, please could an engineer visit to service our alarm? Any weekday morning "
        "works for us."
    ),
    (
        "Hello, I would like to return the boots I bought last week. Can I use a prepaid "
        "label, or do I need to take them to a store?"
    ),
    (
        "Hi, we want to cancel our support plan at the end of the year. Is there a notice "
        "period we need to give?"
    ),
    (
        "Dear customer service, can I change my flight to a later one on the same day? The "
        "booking reference is ABC123."
    ),
    (
        "Hi, I will not be at home on Thursday. Could the courier leave the parcel with my "
        "neighbour at number 12?"
    ),
    ("Hello, I would like to buy a spa day voucher as a gift. How long is it valid for?"),
    (
        "Good morning, could the delivery driver use the back gate when delivering to our "
        "warehouse? The front one is locked after 5pm."
    ),
    ("Hi, my car is due for a service next month. Can I book it in for a Tuesday morning?"),
    ("Hello, please add my colleague to your marketing list, her address is below."),
    (
        "Hello, can you send an electrician to move two sockets in our kitchen? We are "
        "flexible on dates."
    ),
    ("Dear team, can I change the date my monthly fee is taken to the 5th instead of the 1st?"),
    (
        "Hello, I would like to set up a payment plan for the last bill. Who should I speak "
        "to in billing?"
    ),
    (
        "Hi, does your maintenance window on Sunday affect access to the shared drive? We "
        "have a deadline on Monday."
    ),
    (
        "Dear support, is there a new firmware version for our scanners, and can it be "
        "installed remotely?"
    ),
    ("Hello, I have submitted my application. How long does the review usually take?"),
    ("Hi, could we upgrade our booking from a double room to a suite for the second night?"),
    (
        "Hello, we are thinking of moving our payroll to your service. How long does a "
        "migration usually take for a company of 40 staff?"
    ),
    (
        "Hi, my furniture delivery is booked for Thursday morning. Could the driver call 30 "
        "minutes before arriving?"
    ),
    (
        "Dear support, my account shows a credit of 30 dollars. Can it be used against next "
        "month's bill?"
    ),
    ("Hello, could you send a heating engineer for the annual boiler service? Mornings are best."),
    (
        "Hi, I bought two tickets for Saturday. Will the tickets be sent by email, or do we "
        "collect them at the venue?"
    ),
    (
        "Hello, my payment date falls on a bank holiday next month. Will the payment be taken "
        "the day before or the day after?"
    ),
    (
        "Dear team, could we have the quarterly report a week earlier this time? Our board "
        "meets on the 3rd."
    ),
    ("Hi, can I order a vegetarian meal for my flight next month?"),
    (
        "Hello, could you send the bill for my blood test directly to my insurer? I have "
        "their address and my policy number."
    ),
    (
        "Hi, I would like to check the monthly price of my contract before I sign up for the "
        "extra data bundle."
    ),
    ("Dear support, how long does a buyer protection claim usually take to be decided?"),
    ("Hello, our fixed deal ends in March. What tariffs can we move to, and how do we choose one?"),
    ("Hi, which documents do I need to send with my passport application, and can they be copies?"),
    (
        "Hello, I am travelling abroad next month. Do I need to tell the bank, or will my "
        "card work as usual?"
    ),
    (
        "Dear team, we need 10 more licences for the new starters. Can they be added to our "
        "current contract until March?"
    ),
    ("Hi, I have moved house. How do I update my address on my current account?"),
    (
        "Hi, I am renting a car next week. Do I need to return it with a full tank, or can I "
        "pay for the fuel?"
    ),
    ("Hello, can I pay for hospital parking with the app, or only at the machine?"),
    ("Dear support, how do we update the opening hours of our shop on your map for the holidays?"),
    ("Hi, when will my pre-order ship, and will I get a tracking number by email?"),
    (
        "Hello, I would like to choose a window seat on my flight. How much does seat "
        "selection cost?"
    ),
    ("Dear team, when is the next planned system upgrade, and will the online shop be affected?"),
    ("Hi, where in the app do I submit my monthly meter reading?"),
    ("Hello, how do I report a repair in my flat to the housing office?"),
    ("Hi, the export button is greyed out in my account. How do I enable it?"),
    ("Hello, since the update I cannot find the dark mode setting. Where is it now?"),
    (
        "Dear support, my invoice shows VAT at 20 percent but we are VAT registered in "
        "Ireland. Could you check the rate?"
    ),
    (
        "Hi, the app asks me to log in again every morning. Is there a way to stay signed in "
        "on my own phone?"
    ),
    ("Hello, the printer shows error code 54 when printing double-sided. What does it mean?"),
    ("Hi, my loyalty points balance shows 18,000. How many do I need for a free night?"),
    (
        "Dear team, we would like next-day delivery on our orders from now on. Is there an "
        "extra charge for that?"
    ),
    ("Hello, the password reset email went to my spam folder. Can you send it again?"),
    ("hi, do you have the blue one in size 8? i want to order for my daughter birthday"),
    ("Hello, what size of luggage can I bring on board for free?"),
    ("Good day, can the washing machine installer also take away our old machine?"),
    ("Hi, what features are included in the premium plan?"),
    ("Dear sir, when will my salary advance arrive if the app approved it today?"),
    ("Hello, can we order catering for 40 people for an event on the 12th?"),
    ("Hi there, how much is the deposit at check-in, and when is it released?"),
    ("Hello, how long does a screen replacement take at your store?"),
    (
        "Hello, our printer lease ends next month. How do we arrange the return, and will "
        "there be a final invoice?"
    ),
    (
        "Hi, I need to make a travel insurance claim for a cancelled trip. Does the doctor's "
        "letter need to be on headed paper?"
    ),
    ("Dear support, how do we download invoices older than three months from the new portal?"),
    ("Hello, can I see the estimated fare in your app before booking the taxi?"),
    (
        "Hi, will the pool be open during the holidays, and are there extra swimming classes "
        "for children?"
    ),
    (
        "Hello, my broadband switch to the new provider is planned for the 20th. Will I have "
        "internet on that day?"
    ),
    ("Dear team, how long does a data export usually take for an account with 2 million records?"),
    ("Hi, can I choose a delivery day when I place my order, so that I can be at home?"),
    (
        "Hi, my first flight has changed time. Will my connecting flight be moved too, or "
        "should I call you?"
    ),
    (
        "Hello, where do I enter a discount code in your web shop, at the basket or at the "
        "payment page?"
    ),
    ("Dear support, how do I activate the SIM for my new contract?"),
    ("Hi, can I still receive paper statements from the bank? I do not use online banking."),
    ("Hello, can the builder take away the old bricks when he finishes the wall?"),
    ("Dear team, we would like to book the meeting room for 12 people on the 3rd, from 9 to 12."),
    ("Hi, my dog has allergies. Which of your foods are suitable for her?"),
    ("Hello, if the online exam system crashes during my exam, what should I do?"),
    ("Hello, can I change the strength of my contact lenses subscription from next month?"),
    ("Hi, how long does a mortgage offer usually take after the valuation?"),
    ("Dear support, can we add a second email address for sending invoices to a customer?"),
    ("Hello, when is our street's bin collection day over the holidays?"),
    ("Hi, what date will my pension be paid this month, given the bank holiday?"),
    ("Hello, we would like to add a second broadband line at our office. What would it cost?"),
    ("Dear team, can the courier leave our parcels with the reception of the next building?"),
    ("Hi, how many edited photos are included in the photographer's full package?"),
    (
        "Hello, I opened a joint savings account with my husband at your Leeds branch on 4 "
        "March and everything went smoothly. We would now like to add our daughter, who turns "
        "18 on 12 June, as a third holder. Could you tell me which documents she needs to "
        "bring and whether she can sign online instead of visiting the branch? Thanks, "
        "Margaret Hale."
    ),
    (
        "Dear claims team, I am filing a claim under home policy HP-2231908 for water damage "
        "in our kitchen after a pipe under the sink burst on the night of 9 April. A plumber "
        "from Brightway repaired it the next morning for 180 GBP and I have the invoice and "
        "photos of the swollen cupboard panels. Please let me know which form to complete and "
        "whether you will send an assessor or accept the photos. Kind regards, Priya "
        "Nandakumar."
    ),
    (
        "Hello, we are booked on flight QX 418 from Dublin to Faro on 14 July, booking "
        "reference HT7KPL, two adults and one child. My son's school has moved his end-of- "
        "term concert to 14 July, so we would like to move the outbound flight to 15 July "
        "instead, keeping the same return on 28 July. Could you tell me the change fee and "
        "the fare difference before I confirm? Many thanks, Aoife."
    ),
    (
        "Hello, I would like to cancel my streaming subscription at the end of the current "
        "billing period, which I believe is 17 August. I have enjoyed the service for three "
        "years but I am moving abroad for work and will not have time to use it. Please "
        "confirm the cancellation date and that no further payment will be taken after the "
        "August charge of 11.99 EUR. Best, Sofia."
    ),
    (
        "Dear Sir or Madam, I am moving out of 27 Elm Road on 30 September and into a new "
        "flat at 5 Cedar Court, Bristol, on the same day. I would like to close the "
        "electricity account at the old address with a final meter reading and open a new one "
        "at the new address starting 30 September. Could you tell me whether I need to send "
        "the reading myself or whether an engineer will visit? Regards, Ian Marsh."
    ),
    (
        "Hi, the washing machine you repaired on 3 May (job number RP-55902) has been working "
        "perfectly, thank you to the technician, Marek, who was very thorough. I noticed "
        "today that the door seal has a small tear at the bottom, which I think is unrelated "
        "to the repair and was probably caused by my own zip on a jacket. Could you quote me "
        "for a replacement seal and fitting, and tell me the earliest available slot? Thanks, "
        "Helen."
    ),
    (
        "Hello, I rented a compact car from your Munich airport office from 2 to 9 June, "
        "agreement number MUC-771245, and returned it on time with a full tank. I have just "
        "seen a second charge of 45 EUR on my card dated 11 June and I am not sure what it "
        "relates to. Could you send me an itemised breakdown so I can understand it, for "
        "example whether it is a toll or a parking fee? Kind regards, Lukas Berger."
    ),
    (
        "Good morning, I need to reschedule my physiotherapy appointment on Thursday 18 April "
        "at 10:30 with Dr Okafor because my daughter's school has called a parents' meeting "
        "at the same time. Any slot on Friday 19 April or Monday 22 April would work for me. "
        "My patient number is 30019872. Thank you, Janet."
    ),
    (
        "Dear Ms Collins, my son Oliver in class 4B will be absent from 6 to 10 May because "
        "we are attending a family wedding in Poland, which was arranged long before the "
        "school calendar was published. I have already spoken to his class teacher, who "
        "kindly offered to give him the reading homework in advance. Could you let me know "
        "whether I need to fill in a formal absence request form and where to find it? Many "
        "thanks, Anna Kowalski."
    ),
    (
        "Hi support, I am the admin for our company workspace (acme-logistics) and we have "
        "just hired eight new dispatchers starting on 1 July. I would like to add them as "
        "users but our plan only shows 2 free seats. Could you tell me how to upgrade from 25 "
        "to 35 seats mid-cycle and how the pro-rated amount will appear on the next invoice? "
        "Thanks, Gareth, IT lead."
    ),
    (
        "Hello, we are integrating your payments API with our booking platform and the "
        "sandbox calls work fine. Since moving to production this morning, every call to "
        '/v2/refunds returns HTTP 403 with the message "scope not granted", even though the '
        "key was generated with full access as far as I can tell. Could you tell me which "
        "scope needs to be enabled on the key and where to do it in the dashboard? Best "
        "regards, Nadia, backend developer."
    ),
    (
        "Dear accounts team, invoice INV-2024-0913 dated 30 September for 1,250.00 EUR shows "
        "VAT at 21 percent, but we are a VAT-registered company in Germany (DE298771455) and "
        "I believe the reverse charge should apply. Our VAT number was perhaps missing from "
        "the billing profile when the invoice was generated; I have now added it. Could you "
        "reissue the invoice with the reverse charge note so our accountant can book it? Kind "
        "regards, Stefan Roth, finance."
    ),
    (
        "Hello, our annual licence for 40 seats of your design suite expires on 31 January "
        "and we would like to renew it. This year we only need 32 seats because a team was "
        "merged into another department. Could you send a quote for 32 seats on the annual "
        "plan and confirm whether the price per seat stays at 29 EUR per month? Thanks, "
        "Claire Dubois, procurement."
    ),
    (
        "Hi, we signed up for the Business plan last Tuesday and the onboarding call with "
        "Ravi on Thursday was very helpful. We are now importing our customer list of about "
        "18,000 contacts from a CSV file exported from our old CRM. Is there a recommended "
        "maximum file size per import, and should the date columns be in ISO format or is "
        "DD/MM/YYYY accepted? Regards, Jonas."
    ),
    (
        "Hello, as part of our annual audit we need a full export of all tickets created "
        "between 1 January and 31 December 2023, including attachments and internal notes. "
        "The export button in the admin panel seems to cover only the last 90 days. Could you "
        "tell me how to request a complete archive, how long it takes, and in which format it "
        "is delivered? Many thanks, Ingrid Solberg, compliance."
    ),
    (
        "Hi, our nightly sync job hits your API rate limit at around 2:10 every morning, "
        "returning 429 errors for about ten minutes, after which it recovers on its own. We "
        "process roughly 60,000 records per run, and the documentation says the limit is 100 "
        "requests per second on our tier. Could you advise whether batching endpoints exist "
        "for order updates, or whether a temporary raise of the limit is possible during our "
        "window? Thanks, Viktor, platform team."
    ),
    (
        "Dear security team, we are completing a vendor risk questionnaire for our board and "
        "have a few questions. Where are our data hosted, is data encrypted at rest with "
        "AES-256, and do you hold a current ISO 27001 certificate or a SOC 2 Type II report? "
        "If there is an NDA to sign before you share the report, please send it to me. Best "
        "regards, Helena Virtanen, CISO."
    ),
    (
        'Hello, since the update to version 5.2 last night, the export to Excel shows "error '
        '54" and stops at about 40 percent. I tried restarting the application and the '
        "computer, but the same error appears with both small and large files. How can I fix "
        "this, and is there a workaround until a patch comes out? Thanks, Paul."
    ),
    (
        "Hi, I cannot log in to the mobile banking app since I changed my phone on Saturday. "
        "It asks for a code sent to my old number, which I no longer have because I switched "
        "providers and got a new number. Could you tell me how to update my phone number "
        "securely so I can receive the code again? Regards, Fatima."
    ),
    (
        "Hello, the printer driver I downloaded from your website on Monday installs without "
        "errors but the printer (model LX-300, serial 8841-22A) is never detected by Windows "
        "11. The printer's display shows that it is connected to the Wi-Fi and I can ping its "
        "IP address. What else should I check, or is there a different driver for Windows 11? "
        "Thanks, Mark."
    ),
    (
        "Hi, the smart thermostat I bought in March worked fine all winter, but since "
        'yesterday the app says "device offline" even though the thermostat screen shows the '
        "correct temperature. I have restarted the router and the thermostat twice. Is there "
        "a way to reset the Wi-Fi connection without losing my heating schedule? Best, Lena."
    ),
    (
        "Dear support, when I try to upload my tax documents to the portal, the page shows "
        '"file type not allowed" for PDFs generated by my scanner. Other PDFs from my '
        "accountant upload without any problem. Is there a setting on the scanner or a PDF "
        "version I should use? Thank you, Robert Green."
    ),
    (
        "Hello, our single sign-on via Azure AD stopped working for three users this morning; "
        'the rest of the team can log in normally. The three users see "SAML response '
        'invalid: audience mismatch" on the login page. We did not change anything on our '
        "side as far as I know, but could you tell us what the audience value should be so we "
        "can check our configuration? Thanks, Marta, IT admin."
    ),
    (
        "Hi, I received my new debit card today but the chip is not recognised at the "
        "supermarket, only contactless works. The old card still works until the end of the "
        "month. Do I need to activate the chip by making a PIN transaction at an ATM first, "
        "or is the card faulty and needs to be replaced? Regards, Chris."
    ),
    (
        "Hello, the webhook notifications for order.created stopped arriving at our endpoint "
        "after we moved our server to a new IP address on 2 October. Your dashboard shows the "
        'deliveries as "failed, timeout". Our firewall allows HTTPS from anywhere, so I am '
        "not sure what else to check. Could you share the IP ranges your webhooks are sent "
        "from so we can whitelist them explicitly? Thanks, Omar."
    ),
    (
        "Dear support, the router you sent me on 12 February has a blinking orange light "
        "since this morning and the internet does not work. I have checked that the cable is "
        "firmly plugged into the wall socket and restarted it twice. What does the orange "
        "light mean and what should I try next? Best regards, Gisela Braun."
    ),
    (
        "Hi, our scanned invoices in the accounting module are recognised with the wrong "
        "dates: 03/04/2024 is read as 3 April instead of 4 March. We are based in the US and "
        "use the MM/DD/YYYY format. Where can I change the date format used by the OCR? "
        "Thanks, Kevin."
    ),
    (
        "Hello, I cannot find the download link for the e-book I bought on 8 September, order "
        "5520-9931. The confirmation email arrived, and the payment of 14.50 EUR went "
        'through, but the link in the mail leads to a page that says "expired". Could you '
        "send me a new link or tell me where to download it from my account? Thank you, Ruth."
    ),
    (
        "Hello, I booked a table for six at your restaurant on Saturday 20 April at 19:30 "
        "under the name Petersen. Two of our friends cannot come after all, so we will only "
        "be four people. Could you please change the reservation and confirm that the time "
        "stays the same? Many thanks, Karin Petersen."
    ),
    (
        "Dear support, I accidentally paid my credit card bill twice this month, 350 EUR on 3 "
        "May and again 350 EUR on 5 May, because I forgot I had set up a standing order. The "
        "mistake is mine. Could you either refund the second payment to my current account or "
        "keep it as credit for next month, whichever is simpler? Regards, Henrik."
    ),
    (
        "Hi, I ordered a pair of running shoes in size 43 (order 776102) and they arrived on "
        "Wednesday in perfect condition. Unfortunately they are a bit too small, so I would "
        "like to exchange them for size 44 instead of getting a refund. Could you send me a "
        "return label and tell me whether the exchange is free? Thanks, Julien."
    ),
    (
        "Dear support, I have been a member of your gym since 2019 and I have been very happy "
        "with it. I am having knee surgery on 2 December and my doctor says I will not be "
        "able to train for about three months. Is it possible to freeze my membership from "
        "December to February without paying the monthly fee of 39 EUR? Kind regards, Martin."
    ),
    (
        "Hello, my mother, who is 84, recently moved into a care home and no longer needs her "
        "landline at 12 Mill Lane. I hold a power of attorney and would like to cancel the "
        "line and the broadband package from 1 November. Please tell me what documents you "
        "need and whether any early termination fee applies. Thank you, Susan Reid."
    ),
    (
        "Hi, I entered the wrong IBAN when setting up a transfer of 1,200 EUR to my landlord "
        "yesterday, and the transfer has gone to an account I do not know. It was my own "
        "typing mistake, one digit swapped. Can you start a recall of the payment and tell me "
        "what information you need from me and how long it normally takes? Thanks, Pavel."
    ),
    (
        "Dear support, we are a small accounting firm with 12 users on your document "
        "platform. We would like to enable two-factor authentication for everyone but have "
        "users who do not have company phones. Does the platform support hardware keys such "
        "as YubiKey, and can 2FA be enforced at workspace level? Best, Eleanor Marsh, office "
        "manager."
    ),
    (
        "Hi, I need a copy of my policy schedule for my travel insurance (policy TR-998130) "
        "because the embassy requires it for my visa application. The original was sent by "
        "post in January but I cannot find it after moving house. Could you email a PDF "
        "version, ideally showing the coverage amount of 50,000 EUR for medical expenses? "
        "Many thanks, Yusuf."
    ),
    (
        "Hello, I am writing to change the billing address on our company account from our "
        "old office in Rotterdam to our new premises at Keizersgracht 120, Amsterdam, "
        "effective from 1 March. The invoices for January and February can stay as they are. "
        "Please also update the contact person for invoices to our new controller, Eva de "
        "Wit. Best regards, Jan Visser."
    ),
    (
        "Dear customer service, our delivery of 20 office chairs, order PO-44118, is "
        "scheduled for next Tuesday, but our building's loading dock is closed for "
        "maintenance that day. Could the delivery be moved to Wednesday or Thursday instead? "
        "The delivery contact remains Mr Lindqvist on 070 555 1234. Thanks, Ulla."
    ),
    (
        "Hi, we have been using your time-tracking tool for two years without any trouble. "
        "Our HR department now wants to export all hours logged in the last fiscal year per "
        "employee and per project, in CSV. The standard report only groups per project. Is "
        "there an API endpoint or a report template that gives the per-employee breakdown? "
        "Regards, Diego."
    ),
    (
        "Hello, I received a letter dated 2 April saying my car insurance premium will rise "
        "from 420 GBP to 465 GBP at renewal on 1 May. I understand premiums change, but I "
        "would like to know whether adding a second driver, my wife, or increasing the "
        "voluntary excess would bring the price down. Could you give me a quote for both "
        "options? Thanks, Peter Lamb."
    ),
    (
        "Hi, I am a student at your university starting in September, student ID 2024-55812. "
        "I still have not received my login details for the learning platform, but I think "
        "this is because I entered my old personal email on the enrolment form. Could you "
        "send them to my new address, sam.ortiz.mail@example.com, and update my record? "
        "Thanks, Sam."
    ),
    (
        "Dear support, we noticed that our API key was accidentally committed to a public "
        "GitHub repository by one of our developers about an hour ago. We have already "
        "removed the commit, but we would like to revoke the key immediately and generate a "
        "new one. Could you also tell us whether any calls were made with the key from "
        "unknown IP addresses in the last 24 hours? Regards, Lena Hoffmann, CTO."
    ),
    (
        "Hello, I would like to report that a parcel was left at my door yesterday addressed "
        "to a Mr Chen at 41 Harbour Street, while I live at 14 Harbour Street. The tracking "
        "number is JD00441827GB. I have it safe and would be happy for your driver to collect "
        "it and deliver it to the right address. Please let me know when to expect someone. "
        "Best, Aline."
    ),
    (
        "Hi, my daughter lost her school bus pass (pupil number 66109) during the Easter "
        "holidays. She needs a replacement before school restarts on 15 April. How much does "
        "a replacement cost, and can I pay online and have it sent to the school office? "
        "Thanks, Rachel."
    ),
    (
        "Dear team, I am organising a conference for 180 people in Vienna from 10 to 12 "
        "October and we have a block booking of 90 rooms at your hotel under reference "
        "GRP-3321. Twelve participants have cancelled, so we would like to release 10 rooms "
        "without penalty, which I believe is allowed until 60 days before arrival. Please "
        "confirm the updated block and the new deposit amount. Kind regards, Sabine Huber."
    ),
    (
        "Hi, I am a freelance translator and I have been using your invoicing software for a "
        "year. Since the update last week, the PDF invoices show the total in dollars even "
        "though my default currency is set to euros. How do I fix this? I have an invoice to "
        "send to a client on Friday. Best, Chiara."
    ),
    (
        "Hello, we received our shipment of 500 printed brochures today, order 2024-PR-8830, "
        "and they look great. We have just realised that we ourselves supplied the wrong "
        "phone number on the back page, the last two digits are swapped. Could you quote us "
        "for a reprint of 500 with the corrected file, and tell us how fast it could be "
        "delivered? Thanks, Nora, marketing."
    ),
    (
        "Hi, our team has 15 users on the Pro plan and we would like to downgrade 5 of them "
        "to viewer-only licences, since they only read reports and never edit. Does the "
        "viewer licence have a lower price, and will the change apply immediately or from the "
        "next renewal on 1 September? Thanks, Arjun, operations manager."
    ),
    (
        "Dear Sir or Madam, I am the executor of my late father's estate and I need to close "
        "his current account and savings account, both at your Manchester branch. I have the "
        "death certificate and the grant of probate. Could you let me know the procedure, "
        "whether I need an appointment, and how the remaining balance of about 8,300 GBP will "
        "be transferred? Regards, David Walsh."
    ),
    (
        "Hello, my landlord has asked me to provide a certificate showing that my contents "
        "insurance covers the flat at 9 Queen's Road from 1 October. My policy is CT-220914. "
        "Could you send me such a certificate, or is the policy schedule enough? Many thanks, "
        "Leah."
    ),
    (
        "Hi, I paid my council tax instalment of 142 GBP on 1 March by bank transfer, but I "
        "used my old account reference by mistake instead of the new one you sent in "
        "February. I can see the money left my account. Could you allocate the payment to my "
        "current reference 70022193 so that it is not shown as missing? Thanks, Owen."
    ),
    (
        "Hello support, the CSV export from the analytics dashboard only contains the first "
        "10,000 rows, while our report has about 35,000. Is there a setting to export "
        "everything, or should we use the API for large exports? If the API is the way, which "
        "endpoint would you recommend? Regards, Mei, data analyst."
    ),
    (
        "Dear support, our company changed its legal name from Nordwind Trading GmbH to "
        "Nordwind Group GmbH on 1 July, with the same address and VAT number. Please update "
        "the name on our customer account and on all future invoices. We can send you the "
        "extract from the commercial register if needed. Kind regards, Frank Müller."
    ),
    (
        "Hi, I bought a coffee machine from you in December 2022 and it has worked daily "
        "since then. Last week the water tank started leaking from the bottom seam. The two- "
        "year warranty runs until December 2024, so I would like to know how to send it in "
        "for a warranty repair and whether you provide a loan machine in the meantime. "
        "Thanks, Beatriz."
    ),
    (
        "Hello, our dental practice uses your appointment software, and since yesterday the "
        "SMS reminders are sent one hour late, for example at 10:00 instead of 9:00. I "
        "suspect it is related to the change to summer time on Sunday. Where do I set the "
        "time zone so that reminders go out at the correct time? Best, Dr Anke Vogel."
    ),
    (
        "Hi, I am planning a trip to Japan in April and I would like to know whether my "
        "credit card works there without extra fees. I also want to set a travel notice from "
        "5 to 19 April so the card is not blocked for unusual activity. Could you do that for "
        "me or tell me how to do it in the app? Thanks, Noah."
    ),
    (
        "Hello, I missed my dental check-up on 14 February because I was ill with the flu; I "
        "am sorry I could not call in time. I understand there may be a missed-appointment "
        "fee. Could you let me know the amount and offer me a new appointment in March, "
        "preferably in the morning? Regards, George Kim."
    ),
    (
        "Hi, the kitchen tap you installed on 21 January is great, and the fitter left "
        "everything clean. I would now like to have the bathroom tap replaced in the same "
        "style. Could you send a quote, including parts and labour, and let me know your "
        "availability in February? Thanks, Mrs Ellis."
    ),
    (
        "Hello, I have a question about my pension statement for 2023, which arrived last "
        "week. The contributions listed add up to 4,860 EUR, but my payslips show 5,040 EUR "
        "for the year. Perhaps December's contribution was booked in January; could you "
        "confirm, or tell me how to get a detailed list of the payments? Kind regards, "
        "Rainer."
    ),
    (
        'Dear support, our warehouse scanners running your inventory app show "sync pending" '
        "for orders scanned after 16:00 yesterday, although the Wi-Fi is working. Restarting "
        "the app did not change anything. Is there a way to force a sync manually, or to see "
        "the error log on the device? Thanks, Tomasz, warehouse supervisor."
    ),
    (
        "Hi, I would like to add my newborn son, born 2 May, to our family health insurance "
        "policy FH-44128. I have his birth certificate and can upload it. Could you tell me "
        "whether there is a deadline to add him, and from which date the cover starts? Thank "
        "you, Amira."
    ),
    (
        "Dear support team, I am the new finance manager at Harlow Dental Group and I need "
        "access to the billing section of our account. The previous manager, who left in "
        "March, was the only billing contact. Could you explain how to transfer the billing "
        "role to me, and whether our account owner needs to confirm it? Regards, Priyanka "
        "Shah."
    ),
    (
        "Hi, I just renewed my annual subscription on 2 January for 89 EUR and the renewal "
        "was automatic, as I had set up. I would like to switch to the monthly plan from next "
        "year instead, since I only use the service part of the year. Can I do that now so it "
        "takes effect at the next renewal? Best, Marco."
    ),
    (
        "Hello, I am a landlord and one of my tenants has moved out of Flat 2, 33 Station "
        "Road, on 15 August. Could you please put the gas account in my name from that date "
        "until a new tenant moves in? The closing reading is 05821, taken by the tenant and "
        "me together. Thanks, Linda Frost."
    ),
    (
        "Dear support, after the firmware update on our office NAS last night, users on Macs "
        "cannot connect to the shared folders, while Windows users can. The Mac users get "
        '"the operation can\'t be completed because the original item cannot be found". Do we '
        "need to enable SMB signing or change a protocol setting? Thanks, Kai, IT support."
    ),
    (
        "Hi, I have a quick question about my loan. I received a bonus at work and would like "
        "to pay back 5,000 EUR early on my car loan, contract CL-70043. Is there an early "
        "repayment fee, and will the monthly instalment go down or the term get shorter? "
        "Regards, Lisa."
    ),
    (
        "Hello, I would like to confirm my appointment for the MOT test of my car, "
        "registration AB12 CDE, on 9 October at 8:00. I also received a reminder that the "
        "timing belt is due at 100,000 km, which I will reach soon. Could you give me a price "
        "for that so I can decide whether to do both on the same day? Thanks, Neil."
    ),
    (
        "Dear support, we are evaluating your e-signature product for our legal team of 20 "
        "people. Could you tell us whether signatures are eIDAS-qualified, whether the audit "
        "trail can be exported as PDF, and whether there is a discount for non-profit "
        "organisations? We would also appreciate a trial for 30 days instead of 14 if "
        "possible. Best, Hannah, legal operations."
    ),
    (
        "Hi, I noticed that my monthly statement for May still shows my maiden name, Baker, "
        "although I married in April and changed my name on your website. Perhaps the "
        "statement was generated before the change went through. Will the June statement show "
        "my new name, Lewis, or do I need to do anything else? Thanks, Chloe."
    ),
    (
        "Dear support, I am moving from Spain to France in August and I would like to know "
        "whether I can keep my current phone plan with you or whether I need to cancel it. If "
        "I need to cancel, is there a fee given that my contract ends in November? Thank you, "
        "Carmen."
    ),
    (
        "Hi, our Shopify store uses your shipping app, and since yesterday the labels print "
        "with the sender address missing. I checked the settings and the address is filled in "
        "correctly in the app. Is this a known issue, and how can we fix it before our "
        "afternoon pickup? Thanks, Olivia."
    ),
    (
        "Dear support, our company has grown from 40 to 120 employees and we are now beyond "
        "the Starter plan limits. Could you arrange a call to discuss the Enterprise plan, "
        "including SSO, audit logs and a data processing agreement? We would like to move "
        "before our current term ends on 30 June. Kind regards, Matthias, head of IT."
    ),
    (
        "Hi, I filed a claim for my stolen bicycle on 3 June, claim number BK-30092, and I "
        "received the confirmation email the same day. The police report number has now "
        "arrived, so I would like to add it to the claim. Can I reply to the confirmation "
        "email with the report attached, or is there a portal upload? Thanks, Jasper."
    ),
    (
        "Hello, we would like to receive our invoices by email in XRechnung format instead of "
        "PDF, as required by our public-sector client from January. Is this format supported, "
        "and where can we enter the buyer reference (Leitweg-ID) on our account? Best "
        "regards, Sandra Klein, accounting."
    ),
    (
        "Dear support, one of our customers reports that the password reset email from our "
        "app, which we send through your email API, never reaches Gmail addresses, while "
        "Outlook addresses receive it. We have set up SPF but I am not sure about DKIM. Could "
        "you tell us the DKIM records we need to add for our domain mailer.example.org? "
        "Thanks, Sven."
    ),
    (
        "Hello, I am a teacher at Greenfield Primary and our class trip to the science museum "
        "is planned for 12 March with 28 pupils and 4 adults. We paid the deposit of 150 GBP "
        "on 20 January. Could you confirm the booking details and tell me by when we need to "
        "give final numbers? Kind regards, Mrs Patel."
    ),
    (
        "Hello, the garage door opener you installed last year works fine, but the remote "
        "control's battery died and after replacing it the remote no longer opens the door. I "
        "assume it needs to be paired again. Could you tell me how to reprogram it, or do I "
        "need a technician visit? Regards, Bernard."
    ),
    (
        "Dear support, our nonprofit received a donation of software licences through your "
        "charity programme in 2023, and it is due for renewal on 15 March. Our registration "
        "number has changed because we merged with another charity. What documents do you "
        "need to renew the donated licences under the new number? Best, Grace, operations "
        "coordinator."
    ),
    (
        "Hi, I accidentally deleted a project folder in our shared workspace this morning, "
        "with about 60 documents. I think it happened when I tried to move it. Is there a "
        "trash or version history where I can restore it, and how long are deleted items "
        "kept? Thanks, Rohan."
    ),
    (
        "Hello, I would like to thank Jonas from your support team for helping me set up my "
        "new tablet last Friday. He was patient and explained everything twice without "
        "rushing me. I have one more question: how do I turn off the notification sounds at "
        "night only, without muting calls from my family? Regards, Edith, 79."
    ),
    (
        "Hi, my water meter reading was submitted wrong by me last month: I typed 1,482 "
        "instead of 1,428 cubic metres, so the bill is higher than it should be. I have a "
        "photo of the meter from the same day. Could you correct the reading and reissue the "
        "bill? Thanks, Adam."
    ),
    (
        "Dear support, we use your API for address validation, and we would like to know "
        "whether there are plans to support Irish Eircodes. At the moment, Irish addresses "
        'return "postal code unknown" even when they are correct. Is there a workaround, such '
        "as skipping the postal code check for IE? Regards, Fiona, product manager."
    ),
    (
        "Hello, I ordered a sofa on 4 February, order SF-11842, with delivery planned for the "
        "week of 18 March. We are having our floors redone that week, so we would like "
        "delivery in the week of 25 March instead. Is that possible, and is there any storage "
        "fee for the extra week? Thanks, Maria and Paolo."
    ),
    (
        "Hi, since updating my phone to the newest operating system, your banking app crashes "
        'as soon as I open the "payments" tab. Other parts of the app work. I have '
        "reinstalled it once already. Is there a fix, or should I use the website until a new "
        "version comes out? Thanks, Jorge."
    ),
    (
        "Dear support, I am an HR manager and I need to set up a new payroll run for "
        "employees joining mid-month, starting 15 November. The system calculates a full "
        "month's salary for them. Where do I enter the start date so the first salary is pro- "
        "rated, and does it apply to holiday accrual too? Kind regards, Birgit."
    ),
    (
        "Hello, I received a letter from you saying my direct debit for the quarterly water "
        "bill failed on 1 July. I think it is because I changed banks in June and forgot to "
        "update the details. Please send me a form to set up a new direct debit, and let me "
        "know how to pay the 96 GBP that is now due. Thanks, Harriet."
    ),
    (
        "Hi, my flight from Madrid to Oslo on 8 January was rebooked by you to the next "
        "morning because of a snowstorm, and the hotel voucher worked fine. I have receipts "
        "for a taxi of 38 EUR and dinner of 22 EUR. Can I claim these costs, and where do I "
        "send the receipts? Best, Ingvild."
    ),
    (
        "Dear support, the two-factor codes from your authenticator app are rejected when I "
        "log in, although they appear on time. I recently travelled and changed the time zone "
        "on my phone manually. Could the clock be the problem, and how do I resync it? "
        "Thanks, Selin."
    ),
]


#: Short routine mails worded near complaints: refunds going fine, questions about charges,
#: the client's own mistakes, plain problem reports.
NEAR_COMPLAINT_ROUTINE = [
    (
        "Hello, could you tell me when my next invoice will be issued? I'd like to plan the "
        "payment from our business account."
    ),
    (
        "Hi, I moved house last week and need to update my billing address to 14 Orchard "
        "Lane, Leeds LS6 2AB."
    ),
    ("Thanks so much for sorting out my booking yesterday, the new dates work perfectly for us."),
    "I get error 54 when printing from the desktop app. How do I fix this?",
    ("Could you send me a copy of the receipt for order 88213? I need it for my expense report."),
    ("My refund for order 4471 arrived this morning, thank you for processing it so quickly."),
    (
        "I'd like to change my flight on 12 May from the morning departure to the afternoon "
        "one, if there's space."
    ),
    (
        "We are filing an insurance claim for the water damage in our kitchen; which "
        "documents do you need from us?"
    ),
    (
        "Can I book a repair appointment for my washing machine sometime next week? Mornings "
        "suit me best."
    ),
    "Please add my colleague Priya Shah as an admin user on our company account.",
    "Is it possible to pay the invoice by bank transfer instead of credit card?",
    ("How many seats does our current licence cover, and what would it cost to add ten more?"),
    (
        "Could you point me to the documentation for your REST API? We're planning an "
        "integration with our CRM."
    ),
    ("We've just signed up and would like to schedule an onboarding call for our team of twelve."),
    "I accidentally ordered two of the same lamp; can I return one of them?",
    (
        "Just to confirm, the parcel was delivered today and everything was in perfect "
        "condition. Thanks!"
    ),
    ("What is your policy if a package arrives damaged? I'm asking before I place a large order."),
    ("My password reset email seems to have gone to spam, I found it now, so no action needed."),
    (
        "Could you let me know whether the refund will go back to my original card or as "
        "store credit?"
    ),
    ("Since the update, the app asks me to log in again. Is there a setting to keep me signed in?"),
    "I'd like to upgrade from the Basic plan to the Pro plan starting next billing cycle.",
    "Do you offer a discount for non-profit organisations?",
    ("Please change the name on my booking from Jon to Jonathan; it was my typo when I booked."),
    ("We'd like to receive our invoices in PDF by email instead of paper by post from now on."),
    "Is there a way to export all my contacts to CSV?",
    (
        "Hello, I'm still waiting to hear which date suits your technician, no rush, just let "
        "me know when you can."
    ),
    (
        "Could you confirm my hotel reservation for 3 nights from 20 June? I didn't get a "
        "confirmation email, maybe I typed my address wrong."
    ),
    "How do I connect the printer to a new Wi-Fi network?",
    "I'd like to know whether my policy covers a rental car while mine is being repaired.",
    "Thank you for the quick answer yesterday, the fix worked.",
    "Can we get a quote for 50 additional user licences for our Berlin office?",
    "My daughter will be travelling with me; can I add her to the existing booking?",
    ("Please cancel my appointment on Thursday at 3pm, I'll rebook when I'm back from holiday."),
    "Where can I find the tracking number for my order?",
    (
        "Our finance team needs the VAT number printed on all future invoices. Could you "
        "update that?"
    ),
    (
        "I entered the wrong delivery address on my order this morning; can it still be "
        "changed before it ships?"
    ),
    ("What happens if a delivery is missed because nobody is home? Will the courier try again?"),
    "I'd like to set up a direct debit for my monthly payments.",
    "Is the Slack integration available on the Standard plan or only on Enterprise?",
    "Could I get a printed copy of my policy documents sent to my new address?",
    ("The screen on my tablet flickers when brightness is below 20 percent. Is there a known fix?"),
    "We're onboarding three new staff on Monday; could you create accounts for them?",
    (
        "Hi, just checking: is the refund processed automatically once you receive the "
        "returned item?"
    ),
    "My card expires next month; how do I update the payment details?",
    "Can I change my seat to an aisle seat on the return flight?",
    (
        "I received the replacement part today, thanks. Could you send the installation guide "
        "as well?"
    ),
    "What's the difference between the monthly and annual licence in terms of support?",
    ("Would it be possible to move our renewal date to 1 January to align with our fiscal year?"),
    "I forgot my username. Could you send it to the email on file?",
    "Could you tell me how long a standard insurance claim usually takes to process?",
    "I'll be away for two weeks; can you hold my deliveries until the 15th?",
    ("We never used the analytics module, so we'd like to remove it from our plan at renewal."),
    "Is there an SSO option with Azure AD for business accounts?",
    "Please send me the invoice for March again; I deleted the email by mistake.",
    "How do I add a second driver to my car insurance policy?",
    ("My order shows as delivered and I've got it, I just wanted to say the packaging was lovely."),
    "Could you check whether my boiler service is due this year?",
    "I'd like to book a table for six on Saturday at 7pm.",
    "Can I get a refund if I cancel the course more than 14 days before it starts?",
    (
        "Our integration returns a 401 when calling the orders endpoint. Which scope does the "
        "token need?"
    ),
    "Please update my phone number to 07700 900123.",
    "We'd like to know if you can invoice us quarterly rather than monthly.",
    "Is the warranty transferable if I sell the bike?",
    (
        "I've attached the photos for my claim on the cracked windscreen. Let me know if you "
        "need anything else."
    ),
    "Could you reschedule the engineer's visit from Tuesday to Wednesday?",
    "How do I turn off email notifications for every new comment?",
    (
        "Thanks to Maria on your phone line, she was really helpful with my travel insurance "
        "question."
    ),
    "What are the opening hours of your Manchester branch over Easter?",
    "I'd like to order a replacement charger for model X200.",
    "If my train is cancelled, does my ticket allow me to take the next service?",
    "Please cancel my newsletter subscription.",
    'Could you explain the line "service fee" on my latest bill?',
    "We are evaluating your platform and would like a trial licence for 30 days.",
    "Is there a limit on how many projects a free account can have?",
    "My new router shows an orange light. What does that mean and how do I get it online?",
    "Can I collect my order in store instead of having it delivered?",
    "Could you send me the terms and conditions for the extended warranty?",
    "I'd like to transfer my account to my husband's name.",
    "Thank you, the invoice is paid and we received the confirmation.",
    "When will the new version with dark mode be released?",
    "Is it possible to split the payment into three instalments?",
    "I'm travelling to Spain next month; do I need to tell you so my card works abroad?",
    "Please add the purchase order number PO-5521 to invoice 10034.",
    "Do you deliver on Sundays?",
    "My claim reference is CL-20931; could you tell me what the next step is?",
    "I'd like to book the car for an MOT and a service on the same day.",
    "How can I change the language of the dashboard to French?",
    "We moved offices; please send all future correspondence to 5 King Street, Bristol.",
    "Could you remind me how many loyalty points I have?",
    (
        "The cable I ordered is the wrong length for my setup, entirely my mistake. Can I "
        "exchange it for the 3 metre one?"
    ),
    "I'd like to know whether I'll be charged a fee if I change my booking again later.",
    "Hi, can you confirm the repair is still scheduled for Friday morning?",
    "Is there a webhook for when an invoice is paid?",
    "Could you increase the storage on our team workspace to 2 TB?",
    "We'd like to add a second billing contact for our account.",
    ('I got a message saying "disk quota exceeded" when uploading files. How do I free up space?'),
    "What documents do I need to bring to the branch to open a business account?",
    "Can I pause my membership for two months while I recover from surgery?",
    "Thank you for the flowers delivered for my mother's birthday, she loved them.",
    (
        "My order is missing from the order history page, but I've got the confirmation "
        "email. Where else can I see it?"
    ),
    "Could you confirm whether the laptop comes with a UK plug?",
    "Please send me a quote for moving house contents from Oxford to York in July.",
    "How do I claim for lost luggage on my travel insurance?",
    (
        "Even though I've read the guide, I'm not sure which cable goes into port B. Could "
        "you clarify?"
    ),
    "I'd like to upgrade my broadband speed; what options are available at my address?",
    "Can you resend the activation code? I think I typed my email wrong at sign-up.",
    ("We need a signed data processing agreement before we can go live. Who should we send it to?"),
    "Is it normal that the first bill is higher because it includes a partial month?",
    "Please close my old savings account and move the balance to my current account.",
    "Could you tell me whether my parcel needs a signature on delivery?",
    "The heating engineer did a great job yesterday, thank you.",
    "Is there a student discount on the annual plan?",
    "I'd like to change my delivery slot from morning to evening.",
    "How do I reset the thermostat to factory settings?",
    ("We'd like to onboard our second team in April; can we reuse the same training materials?"),
    "Could you tell me if I can use my voucher together with the sale price?",
    "Only one of my two devices shows up in the app; how do I add the second one?",
    "Is it possible to get the invoice addressed to our parent company instead?",
    "Please let me know when the blue version is back in stock.",
    ("I want to make sure I don't get charged after the trial ends. How do I cancel in time?"),
    "Could you book me a taxi from the airport to the hotel for my arrival on the 9th?",
    "What's the process for adding a new vehicle to our fleet policy?",
    "My account was locked after I typed the wrong PIN three times. How do I unlock it?",
    "I'd like to renew my licence for another year with the same number of seats.",
    ("Hi, could you confirm that the damaged-in-transit cover applies to furniture as well?"),
    "Do you have an API rate limit, and if so, what is it?",
    "Please update my email address to anna.kowalski@example.com.",
    (
        "I'm waiting for the delivery today and won't be home after 5pm; can the driver leave "
        "it with a neighbour?"
    ),
    "Can I get a copy of my annual statement for my tax return?",
    ("We'd like to change the payment terms on our account from 14 to 30 days, if possible."),
    "I'd like to add travel insurance to my existing flight booking.",
    "How do I print a return label?",
    "Since the update, there's a new toolbar at the top. How do I hide it?",
    "Could you tell me what the cancellation fee is for the premium tour?",
    (
        "The delivery arrived early, which was great. Could you send the invoice to our "
        "accounts team?"
    ),
    "I'd like to schedule a demo of your reporting features for our managers.",
    "Can I change the PIN for my card online?",
    "Which browsers do you support for the admin console?",
    "Just a quick thank you, the refund came through and everything is settled.",
    "Please book my car in for a tyre change; the spare is on now after a puncture.",
    (
        "If the goods are damaged on arrival, should I refuse the delivery or accept it and "
        "report it?"
    ),
    (
        "I made a mistake and paid invoice 3321 twice. Could you refund the extra payment or "
        "keep it as credit?"
    ),
    ("We'd like to integrate your payment gateway with our Shopify store. Is there a plugin?"),
    ("My insurance renewal is due next month; can I switch to the policy with lower excess?"),
    "Could you tell me how to set up automatic backups on the NAS?",
    (
        "I'd like to cancel my hotel booking for next weekend; I understand it's free until "
        "48 hours before."
    ),
    ("Hello, I'd like to know whether the warranty has expired on my dishwasher, serial 7731-AB."),
]


@pytest.mark.parametrize("letter", COMPLAINTS, ids=lambda t: t[:40])
def test_a_calm_letter_that_states_a_harm_is_a_complaint(detector: Detector, letter: str) -> None:
    result = detector.assess_text(letter)
    assert result.is_complaint, result.reasons


@pytest.mark.parametrize("letter", ROUTINE + NEAR_COMPLAINT_ROUTINE, ids=lambda t: t[:40])
def test_routine_mail_is_routine(detector: Detector, letter: str) -> None:
    result = detector.assess_text(letter)
    assert not result.is_complaint, result.reasons
